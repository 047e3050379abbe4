// The sandbox (issue 10, items 1 and 4): the attacks a hostile benchmark or gate tried fail, and
// honest harnesses keep working. Through the built binary on real repositories, with bubblewrap.
//
// Each attack runs only on the candidate side: the queued no-op adds `tamper-marker`, and the
// benchmark (or gate) checks for it. The first test also runs its attack unconfined, to show the
// attack is real and the test can fail.

#include "e2e/robust_support.hpp"
#include "exec/namespaces.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace ar::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found;
}

// Each test runs with both engines: "auto" (namespaces joined per command, where the kernel has
// Landlock) and "bwrap" (one bubblewrap process per command).
class SandboxE2E : public ::testing::TestWithParam<std::string> {
 protected:
  TempDir tmp{"autoresearch-sandbox"};

  // The config's sandbox section for `mode` with the engine under test, and `more` keys.
  std::string sandbox(const std::string& mode = "auto", const std::string& more = "") const {
    return "sandbox:\n  mode: " + mode + "\n  engine: " + GetParam() + "\n" + more;
  }

  // Prepends `prologue` to the fixture's benchmark, commits, and queues the no-op that adds
  // tamper-marker (so the prologue can tell the candidate from the base).
  static void attack_from_benchmark(FixtureRepo& repo, const std::string& prologue) {
    std::string bench = read_text(repo.root / "bench.sh");
    robust::write_script(repo.root / "bench.sh", "#!/bin/sh\n" + prologue + bench.substr(bench.find('\n') + 1));
    queue_marker(repo);
  }
  static void queue_marker(FixtureRepo& repo) {
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m attack");
    repo.queue_change("01-marker.patch", "Title: Add tamper-marker", "tamper-marker", "marker\n");
    git(repo.root, "add -A");
    git(repo.root, "commit -q -m queue");
  }
  static json only_record(const FixtureRepo& repo, const CliResult& run) {
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::vector<json> records = repo.records();
    if (records.size() != 1u) {
      ADD_FAILURE() << "expected one record\n" << run.output;
      return json::object();
    }
    return records[0];
  }
};

// A build output (untracked, ignored) that the benchmark reads; the candidate's benchmark slows
// the base down by rewriting the base's copy. Unconfined, the no-op is kept; confined, the write
// is refused and the no-op is not kept.
TEST_P(SandboxE2E, CandidateCannotChangeWhatTheBaseMeasures) {
  for (const std::string mode : {"off", "auto"}) {
    SCOPED_TRACE("sandbox: " + mode);
    TempDir dir("autoresearch-sandbox-base");
    FixtureRepo repo(dir.path(), "build:\n  command: cp slow.txt slow.out\n  timeout: 20s\n" + sandbox(mode));
    write_text(repo.root / ".gitignore", "slow.out\n");
    robust::edit_file(repo.root / "bench.sh", "$(cat slow.txt)", "$(cat slow.out)");
    attack_from_benchmark(repo, "[ -f tamper-marker ] && echo 3.0 > ../base/slow.out\n");
    json r = only_record(repo, run_cli(repo.root, "run"));
    if (mode == "off") {
      EXPECT_EQ(r["status"], "keep") << "the attack should work unconfined: " << r.dump(2);
      continue;
    }
    EXPECT_NE(r["status"], "keep") << r.dump(2);
    EXPECT_EQ(read_text(repo.root / ".autoresearch/wt/base/slow.out"), "1.0\n");
    std::string log = read_text(repo.root / ".autoresearch/logs/0001.log");
    EXPECT_NE(log.find("slow.out: Read-only file system"), std::string::npos) << log;
  }
}

// The journal cannot be overwritten, the user's checkout and ideas.md cannot be written. The
// refused write is in the reason of the failed run.
TEST_P(SandboxE2E, BenchmarkCannotTouchTheJournalOrTheCheckout) {
  FixtureRepo repo(tmp.path(), sandbox());
  write_text(repo.root / "ideas.md", "- an idea\n");
  attack_from_benchmark(repo,
                        "if [ -f tamper-marker ]; then\n"
                        "  true > ../../../ideas.md\n"
                        "  echo pwned > ../../../pwned.txt\n"
                        "  echo '{\"type\":\"experiment\"}' >> ../../../results.jsonl || exit 7\n"
                        "fi\n");
  json r = only_record(repo, run_cli(repo.root, "run"));
  EXPECT_EQ(r["status"], "crash") << r.dump(2);
  std::string reason = r.value("reason", "");
  EXPECT_NE(reason.find("refused by the sandbox"), std::string::npos) << reason;
  EXPECT_NE(reason.find("ideas.md: Read-only file system"), std::string::npos) << reason;
  std::string log = read_text(repo.root / ".autoresearch/logs/0001.log");
  for (const char* refused : {"ideas.md: Read-only", "pwned.txt: Read-only", "results.jsonl: Read-only"}) {
    EXPECT_NE(log.find(refused), std::string::npos) << refused << "\n" << log;
  }
  EXPECT_EQ(read_text(repo.root / "ideas.md").find("- an idea"), 0u);
  EXPECT_FALSE(present(repo.root / "pwned.txt"));
  EXPECT_FALSE(present(repo.root / ".autoresearch/wt/cand/pwned.txt"));
  // The journal holds the header and the one record, and a second run reads it without a word.
  CliResult status = run_cli(repo.root, "status");
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(status.output.find("warning"), std::string::npos) << status.output;
}

// `rm -rf` of the state folder only reaches what is writable in there: the candidate's own
// worktree, which the loop then sees as tampering. Logs, saved patches and the state file stay,
// the experiment is recorded, and the next run goes on.
TEST_P(SandboxE2E, BenchmarkCannotDeleteTheStateFolder) {
  FixtureRepo repo(tmp.path(), sandbox());
  attack_from_benchmark(repo, "[ -f tamper-marker ] && rm -rf ../../../.autoresearch\n");
  json r = only_record(repo, run_cli(repo.root, "run"));
  EXPECT_EQ(r["status"], "rejected") << r.dump(2);
  EXPECT_EQ(r.value("reason", "").rfind("tampering:", 0), 0u) << r.dump(2);
  for (const char* kept : {".autoresearch/logs/0001.log", ".autoresearch/patches/0001.patch", ".autoresearch/lock"}) {
    EXPECT_TRUE(present(repo.root / kept)) << kept;
  }
  repo.queue_change("02-faster.patch", "Title: Faster", "speed.txt", "0.8\n");
  CliResult again = run_cli(repo.root, "run");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 2u) << again.output;
  EXPECT_EQ(records[1]["status"], "keep") << records[1].dump(2);
}

// A gate that installs a git hook and moves the user's branch back: both refused.
TEST_P(SandboxE2E, GateCannotWriteTheSharedGitDirectory) {
  FixtureRepo repo(tmp.path(), sandbox());
  write_text(repo.root / "README", "one\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m one");
  std::string gate = read_text(repo.root / "gates/check.sh");
  robust::write_script(repo.root / "gates/check.sh",
                       "#!/bin/sh\n"
                       "if [ -f tamper-marker ]; then\n"
                       "  printf '#!/bin/sh\\nexit 1\\n' > ../../../.git/hooks/pre-commit\n"
                       "  git -C ../../.. update-ref refs/heads/master HEAD~1\n"
                       "  git -C ../../.. update-ref refs/heads/main HEAD~1\n"
                       "fi\n" +
                           gate.substr(gate.find('\n') + 1));
  queue_marker(repo);
  std::string head = git(repo.root, "rev-parse HEAD");
  std::string branch = git(repo.root, "symbolic-ref --short HEAD");
  json r = only_record(repo, run_cli(repo.root, "run"));
  EXPECT_NE(r["status"], "keep") << r.dump(2);
  EXPECT_EQ(git(repo.root, "rev-parse " + branch), head);
  EXPECT_FALSE(present(repo.root / ".git/hooks/pre-commit"));
}

// Honest harnesses keep working: outputs in the worktree (ignored), a build cache and a scratch
// folder outside the repository, and /tmp files. Each side's /tmp is its own: what the base's
// benchmark leaves in /tmp the candidate's never sees.
TEST_P(SandboxE2E, HonestHarnessesWriteWhereTheyUsedToAndEachSideHasItsOwnTmp) {
  fs::path scratch = tmp / "scratch";
  fs::path cache = tmp / "cache";
  FixtureRepo repo(tmp.path(), "build:\n  command: mkdir -p " + shell_quote(cache.string()) + " && date > " +
                                   shell_quote((cache / "stamp").string()) + " && cp speed.txt speed.out\n" +
                                   "  timeout: 20s\n" + sandbox());
  write_text(repo.root / ".gitignore", "*.out\nout/\n");
  robust::edit_file(repo.root / "bench.sh", "$(cat speed.txt)", "$(cat speed.out)");
  std::string bench = read_text(repo.root / "bench.sh");
  robust::write_script(repo.root / "bench.sh",
                       "#!/bin/sh\nset -e\n"
                       "mkdir -p out " + shell_quote(scratch.string()) + "\n" +
                           "echo run > out/result.txt\n"
                           "echo run >> " + shell_quote((scratch / "runs.txt").string()) + "\n" +
                           "t=$(mktemp); echo x > \"$t\"; rm \"$t\"\n"
                           "if [ -f speed-candidate ]; then [ ! -e /tmp/from-base ] || exit 9; "
                           "else echo base > /tmp/from-base; fi\n" +
                           bench.substr(bench.find('\n') + 1));
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m honest");
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.8\n");
  // The candidate is told apart by a file the patch adds (the faster one): speed-candidate.
  std::string patch = read_text(repo.root / "experiments/01-faster.patch");
  write_text(repo.root / "speed-candidate", "1\n");
  git(repo.root, "add -N speed-candidate");
  std::string add = git(repo.root, "diff -- speed-candidate");
  git(repo.root, "rm -q --cached speed-candidate");
  fs::remove(repo.root / "speed-candidate");
  write_text(repo.root / "experiments/01-faster.patch", patch + add + "\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");

  json r = only_record(repo, run_cli(repo.root, "run"));
  EXPECT_EQ(r["status"], "keep") << r.dump(2);
  EXPECT_TRUE(present(cache / "stamp"));
  EXPECT_GE(read_text(scratch / "runs.txt").size(), 8u);
  // The base's /tmp file went to the base's private /tmp, not the machine's (the candidate would
  // have failed with exit 9 on seeing it).
  EXPECT_FALSE(present("/tmp/from-base"));
}

// The repository itself under /tmp (a common place for scratch clones): the private /tmp must not
// hide it.
TEST_P(SandboxE2E, ARepositoryUnderTmpRunsConfined) {
  const char* old = std::getenv("AUTORESEARCH_TEST_TMPDIR");
  std::string saved = old != nullptr ? old : "";
  ::setenv("AUTORESEARCH_TEST_TMPDIR", "/tmp", 1);
  TempDir dir("autoresearch-sandbox-tmp");
  if (old != nullptr) {
    ::setenv("AUTORESEARCH_TEST_TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("AUTORESEARCH_TEST_TMPDIR");
  }
  ASSERT_EQ(dir.path().string().rfind("/tmp/", 0), 0u) << dir.path();
  FixtureRepo repo(dir.path(), sandbox());
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.8\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<json> records = repo.records();
  ASSERT_EQ(records.size(), 1u) << run.output;
  EXPECT_EQ(records[0]["status"], "keep") << records[0].dump(2);
  json header = robust::journal_lines(repo.root).front();
  EXPECT_EQ(header["sandbox"]["confined"], true) << header.dump(2);
  // auto joins namespaces where the kernel has Landlock; bwrap (or no Landlock) starts bubblewrap.
  std::string engine = GetParam() == "auto" && exec::landlock_abi() > 0 ? "namespaces" : "bwrap";
  EXPECT_EQ(header["sandbox"].value("engine", "").rfind(engine, 0), 0u) << header.dump(2);
}

// The way around a mount namespace: /proc/<pid>/root of a process outside it (the loop, the
// user's shell) leads back to the writable repository; and a command may try to signal the loop.
// Both are refused (the Landlock domain); unconfined, the same script writes the journal.
TEST_P(SandboxE2E, CommandCannotReachTheRepositoryThroughProcOrSignalTheLoop) {
  for (const std::string mode : {"off", "auto"}) {
    SCOPED_TRACE("sandbox: " + mode);
    TempDir dir("autoresearch-sandbox-proc");
    FixtureRepo repo(dir.path(), sandbox(mode));
    std::string journal = fs::canonical(repo.root).string() + "/results.jsonl";
    attack_from_benchmark(repo, "if [ -f tamper-marker ]; then\n"
                                "  for p in /proc/[0-9]*; do\n"
                                "    echo '{\"forged\":1}' 2>/dev/null >> \"$p/root" + journal + "\" && echo \"ESCAPED via $p\"\n"
                                "  done\n"
                                "  p=$PPID\n"
                                "  while [ \"$p\" -gt 1 ] && [ \"$(cat /proc/$p/comm)\" != autoresearch ]; do\n"
                                "    p=$(cut -d' ' -f4 /proc/$p/stat)\n"
                                "  done\n"
                                "  echo \"the loop: $p\"; kill -0 \"$p\" 2>/dev/null && echo SIGNALLED\n"
                                "fi\n");
    CliResult run = run_cli(repo.root, "run");
    std::string log = read_text(repo.root / ".autoresearch/logs/0001.log");
    bool escaped = log.find("ESCAPED via") != std::string::npos;
    bool signalled = log.find("SIGNALLED") != std::string::npos;
    if (mode == "off") {
      // The forged line is caught by the journal's own check, which stops the run.
      EXPECT_TRUE(escaped && signalled) << "the attack should work unconfined:\n" << log;
      EXPECT_NE(read_text(repo.root / "results.jsonl").find("forged"), std::string::npos);
      continue;
    }
    json r = only_record(repo, run);
    EXPECT_NE(r["status"], "keep") << r.dump(2);
    EXPECT_FALSE(escaped) << log;
    EXPECT_EQ(read_text(repo.root / "results.jsonl").find("forged"), std::string::npos);
    json header = robust::journal_lines(repo.root).front();
    // Signals are scoped from Landlock ABI 6 on.
    std::string engine = header["sandbox"].value("engine", "");
    std::size_t abi_at = engine.find("Landlock ABI ");
    if (abi_at != std::string::npos && std::stoi(engine.substr(abi_at + 13)) >= 6) {
      EXPECT_FALSE(signalled) << log;
    }
  }
}

// Where bubblewrap is missing: auto warns once and says so in the journal header; strict refuses.
TEST_P(SandboxE2E, WithoutBubblewrapAutoRunsUnconfinedAndSaysSoWhileStrictRefuses) {
  // A PATH with everything of /usr/bin and /bin but bwrap.
  fs::path bin = tmp / "bin";
  fs::create_directories(bin);
  for (const char* folder : {"/usr/bin", "/bin"}) {
    for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
      std::error_code ec;
      if (e.path().filename() != "bwrap") fs::create_symlink(e.path(), bin / e.path().filename(), ec);
    }
  }
  FixtureRepo repo(tmp.path());
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.8\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -q -m queue");
  robust::StartOptions no_bwrap;
  no_bwrap.env["PATH"] = bin.string();

  robust::Child run = robust::start(repo.root, {"run"}, tmp / "auto.log", no_bwrap);
  robust::Ended end = robust::finish(run, std::chrono::seconds(60));
  ASSERT_TRUE(end.exited && end.code == 0) << end.describe() << run.output();
  std::string out = run.output();
  std::size_t warning = out.find("warning: commands run unconfined: bubblewrap (bwrap) is not installed");
  EXPECT_NE(warning, std::string::npos) << out;
  EXPECT_EQ(out.find("unconfined", warning + 30), std::string::npos) << "warned more than once:\n" << out;
  json header = robust::journal_lines(repo.root).front();
  EXPECT_EQ(header["sandbox"]["confined"], false) << header.dump(2);
  EXPECT_NE(header["sandbox"].value("unconfined", "").find("bwrap"), std::string::npos) << header.dump(2);

  robust::edit_file(repo.root / "autoresearch.config.yaml", "session: e2e\n", "session: e2e\nsandbox: strict\n");
  git(repo.root, "commit -qam strict");
  run = robust::start(repo.root, {"run"}, tmp / "strict.log", no_bwrap);
  end = robust::finish(run, std::chrono::seconds(60));
  EXPECT_TRUE(end.exited && end.code != 0) << end.describe();
  EXPECT_NE(run.output().find("sandbox: strict, but bubblewrap (bwrap) is not installed"), std::string::npos)
      << run.output();
}

// Strict: the file system is read-only but for the worktree, /tmp and the listed folders.
TEST_P(SandboxE2E, StrictOpensOnlyTheListedFolders) {
  fs::path open = tmp / "open";
  fs::path closed = tmp / "closed";
  fs::create_directories(closed);
  FixtureRepo repo(tmp.path(), sandbox("strict", "  writable: [" + open.string() + "]\n"));
  attack_from_benchmark(repo, "echo ok > " + shell_quote((open / "x").string()) + " || exit 5\n" +
                                  "[ -f tamper-marker ] && { echo no > " + shell_quote((closed / "x").string()) +
                                  " || exit 6; }\n");
  json r = only_record(repo, run_cli(repo.root, "run"));
  EXPECT_EQ(r["status"], "crash") << r.dump(2);
  EXPECT_NE(r.value("reason", "").find("closed/x: Read-only file system"), std::string::npos) << r.dump(2);
  EXPECT_TRUE(present(open / "x"));
  EXPECT_FALSE(present(closed / "x"));

  robust::edit_file(repo.root / "autoresearch.config.yaml", open.string(), (repo.root / "build").string());
  CliResult bad = run_cli(repo.root, "run");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("sandbox.writable: " + (repo.root / "build").string() + " is inside the repository"),
            std::string::npos)
      << bad.output;
}

INSTANTIATE_TEST_SUITE_P(Engines, SandboxE2E, ::testing::Values("auto", "bwrap"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace ar::test
