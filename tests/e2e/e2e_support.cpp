#include "e2e/e2e_support.hpp"

#include <stdexcept>

namespace ar::test {

namespace fs = std::filesystem;

CliResult run_cli(const fs::path& cwd, const std::string& args) {
  CliResult r;
  r.exit_code = shell("cd " + shell_quote(cwd.string()) + " && " + shell_quote(AUTORESEARCH_BINARY) + " " + args,
                      &r.output);
  return r;
}

std::string git(const fs::path& repo, const std::string& args) {
  std::string out;
  int rc = shell("cd " + shell_quote(repo.string()) +
                     " && GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null git -c user.name=fixture "
                     "-c user.email=fixture@example.com -c init.defaultBranch=main " + args,
                 &out);
  if (rc != 0) throw std::runtime_error("git " + args + " failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

FixtureRepo::FixtureRepo(const fs::path& dir, const std::string& extra_config) : root(dir / "repo"), counter(dir / "counter") {
  fs::create_directories(root);
  git(root, "init -q");
  write_text(root / "speed.txt", "1.0\n");
  write_text(root / "slow.txt", "1.0\n");
  write_text(root / "ok.txt", "ok\n");
  write_text(root / "notes.txt", "notes\n");
  // Box-Muller over awk's seeded rand(): deterministic per run number, different across runs.
  write_text(root / "bench.sh",
             "#!/bin/sh\n"
             "n=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"\n"
             "if [ -f crash.txt ]; then echo 'segfault (simulated)' >&2; exit 139; fi\n"
             "echo 'some chatter'\n"
             "awk -v a=\"$(cat speed.txt)\" -v b=\"$(cat slow.txt)\" -v s=\"$n\" 'BEGIN{srand(s); u1=rand(); "
             "u2=rand(); z=sqrt(-2*log(u1+1e-12))*cos(6.2831853*u2); printf \"METRIC score=%.5f\\n\", "
             "100*a*b*(1+0.01*z)}'\n");
  write_text(root / "gates" / "check.sh", "#!/bin/sh\ngrep -qx ok ok.txt || { echo 'ok.txt is not ok' >&2; exit 4; }\n");
  shell("chmod +x " + shell_quote((root / "bench.sh").string()) + " " + shell_quote((root / "gates/check.sh").string()));
  write_text(root / "autoresearch.config.yaml",
             "session: e2e\n"
             "benchmark:\n"
             "  command: COUNTER=" + shell_quote(counter.string()) + " ./bench.sh\n"
             "  timeout: 20s\n"
             "  warmup: 0\n"
             "  pause: 100ms\n"
             "metric:\n"
             "  name: score\n"
             "  direction: lower\n"
             "gates:\n"
             "  - name: check\n"
             "    command: gates/check.sh\n"
             "    timeout: 20s\n"
             "protected: [gates/**, bench.sh]\n"
             // Sessions here test other things; calibration has tests of its own.
             "calibration:\n  on_start: false\n" + extra_config);
  git(root, "add -A");
  git(root, "commit -q -m fixture");
}

void FixtureRepo::queue_change(const std::string& name, const std::string& header, const std::string& file,
                               const std::string& content) {
  std::string old = fs::exists(root / file) ? read_text(root / file) : "";
  bool existed = fs::exists(root / file);
  write_text(root / file, content);
  std::string diff = existed ? git(root, "diff -- " + shell_quote(file))
                             : (git(root, "add -N -- " + shell_quote(file)), git(root, "diff -- " + shell_quote(file)));
  if (existed) {
    write_text(root / file, old);
  } else {
    git(root, "rm -q --cached -- " + shell_quote(file));
    fs::remove(root / file);
  }
  write_text(root / "experiments" / name, header + "\n\n" + diff + "\n");
}

void FixtureRepo::queue_raw(const std::string& name, const std::string& text) {
  write_text(root / "experiments" / name, text);
}

std::vector<nlohmann::json> FixtureRepo::records() const {
  std::vector<nlohmann::json> out;
  std::string text = fs::exists(root / "results.jsonl") ? read_text(root / "results.jsonl") : "";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    nlohmann::json j = nlohmann::json::parse(text.substr(pos, end - pos));
    if (j.value("type", "") == "experiment") out.push_back(j);
    pos = end + 1;
  }
  return out;
}

} // namespace ar::test
