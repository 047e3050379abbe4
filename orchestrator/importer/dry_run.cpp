#include "importer/dry_run.hpp"

#include "exec/local_executor.hpp"
#include "exec/sandbox.hpp"
#include "util/error.hpp"

#include <unistd.h>
#include <cstdlib>

#include <fmt/format.h>

namespace ar::importer {

namespace fs = std::filesystem;

namespace {

std::string find_bash() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate = fs::path(dirs.substr(pos, end - pos)) / "bash";
    if (!candidate.empty() && ::access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate).string();
    pos = end + 1;
  }
  throw Error("import: bash is not in PATH; pi's scripts run with bash");
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t begin = text.find_last_of('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1) + 1);
}

// The temp folder, the worktree and git's record of it go, whatever happens; so does the state
// folder when it was made for this.
struct TempWorktree {
  git::Repository& repo;
  std::string name;
  fs::path dir, path, state_dir;
  bool made_state_dir = false;
  ~TempWorktree() {
    try {
      if (!path.empty()) git::Worktree::remove(repo, name, path);
    } catch (const std::exception&) {
      // Best effort: git's record points at a folder removed below; `git worktree prune` drops it.
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (made_state_dir) fs::remove(state_dir, ec);  // only when empty
  }
};

}  // namespace

DryRun dry_run_benchmark(git::Repository& repo, const fs::path& session_dir, const std::vector<std::string>& harness,
                         const std::string& command, std::chrono::milliseconds timeout) {
  const std::string bash = find_bash();
  // Under the repository's state folder (git-excluded), where a session's worktrees live: the
  // sandbox gives the command a private /tmp, so a worktree under /tmp would vanish from its view.
  const fs::path state_dir = fs::weakly_canonical(repo.workdir()) / ".autoresearch";
  std::error_code ec;
  bool made = !fs::exists(state_dir, ec);
  repo.ensure_excluded("/.autoresearch/");
  fs::create_directories(state_dir);
  std::string tmpl = (state_dir / "import-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw Error(fmt::format("import: cannot create a temp folder {}", tmpl));
  TempWorktree tw{repo, fmt::format("autoresearch-import-{}", ::getpid()), tmpl, {}, state_dir, made};
  fs::path wt = tw.dir / "wt";
  git::Worktree::ensure(repo, tw.name, wt, std::nullopt, repo.head_commit());
  tw.path = wt;
  fs::path rel = fs::weakly_canonical(session_dir).lexically_relative(fs::weakly_canonical(repo.workdir()));
  fs::path cwd = rel.empty() || rel == "." ? wt : wt / rel;
  for (const std::string& h : harness) {
    fs::path to = cwd / h;
    fs::create_directories(to.parent_path());
    fs::copy_file(session_dir / h, to, fs::copy_options::overwrite_existing);
  }

  exec::SandboxLayout layout;
  layout.protect = {repo.workdir(), repo.git_dir()};
  layout.worktrees = {wt, wt};
  layout.tmp_root = tw.dir / "tmp";
  layout.outbox = tw.dir / "outbox";
  fs::create_directories(layout.outbox);
  exec::Sandbox sandbox = exec::Sandbox::make(config::Sandbox{}, layout, session_dir / "autoresearch.config.yaml");
  sandbox.prepare();
  sandbox.clear_tmp(1);

  exec::LocalOptions options;
  options.session = "import";
  options.logs = tw.dir;
  options.run_log = tw.dir / "dry-run.log";
  options.token = proc::new_stray_token();
  options.repeat = [] { return metrics::Repeat::last; };
  options.shell = [bash] { return bash; };
  options.sandbox = &sandbox;
  exec::LocalExecutor executor(options);
  exec::Command c = exec::make_command(exec::Kind::benchmark, "import dry run", 0, 1, command, cwd, timeout);
  c.scan_metrics = true;
  exec::CommandResult r = executor.run(c);

  DryRun out;
  out.confined = sandbox.confined();
  out.ok = r.ok();
  out.outcome = fmt::format("{} in {:.1f}s", r.process.describe(), r.process.seconds);
  if (!out.ok) {
    std::string tail = last_line(r.process.tail);
    if (!tail.empty()) out.outcome += ": " + tail;
  }
  for (const auto& [name, value] : r.metrics) out.printed.push_back(name);
  return out;
}

}  // namespace ar::importer
