#include "e2e/crash_support.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ar::test {

namespace fs = std::filesystem;
using nlohmann::json;

Checkout checkout_of(const fs::path& repo) {
  Checkout c;
  c.head = git(repo, "rev-parse HEAD");
  c.branch = git(repo, "symbolic-ref -q HEAD");
  c.index = git(repo, "ls-files -s --debug");
  c.status = git(repo,
                 "status --porcelain --untracked-files=all -- . ':!results.jsonl' ':!results.jsonl.corrupt' "
                 "':!reports'");
  return c;
}

pid_t start_run(const fs::path& repo, const std::string& fault, const fs::path& log) {
  // Everything the child needs is built before fork: between fork and exec only async-signal-safe
  // calls are made.
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string binary = AUTORESEARCH_BINARY;
  std::string run = "run";
  std::string fault_option = "--fault=" + fault;
  char* argv[] = {binary.data(), run.data(), fault.empty() ? nullptr : fault_option.data(), nullptr};
  std::string dir = repo.string();
  std::string log_path = log.string();

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || ::chdir(dir.c_str()) != 0) ::_exit(98);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execve(binary.c_str(), argv, envp.data());
    ::_exit(99);
  }
  return pid;
}

std::string RunEnd::describe() const {
  if (hung) return "still running at the limit (killed)";
  if (exited) return "exit " + std::to_string(code);
  return "killed by signal " + std::to_string(signal);
}

namespace {

RunEnd from_status(int status) {
  RunEnd end;
  if (WIFEXITED(status)) {
    end.exited = true;
    end.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  }
  return end;
}

}  // namespace

bool try_reap(pid_t pid, RunEnd& end) {
  int status = 0;
  pid_t got = ::waitpid(pid, &status, WNOHANG);
  if (got != pid) return false;
  end = from_status(status);
  return true;
}

RunEnd wait_run(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  RunEnd end;
  while (std::chrono::steady_clock::now() < deadline) {
    if (try_reap(pid, end)) return end;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  end = kill_run(pid);
  end.hung = true;
  return end;
}

RunEnd kill_run(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return from_status(status);
}

std::vector<std::string> processes_with_token(const std::string& token) {
  std::vector<std::string> out;
  if (token.empty()) return out;
  const std::string needle = "AUTORESEARCH_RUN_TOKEN=" + token;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string environ_text;
    try {
      environ_text = read_text(fs::path("/proc") / name / "environ");
    } catch (const std::exception&) {
      continue;  // gone, or not ours to read
    }
    // A zombie's environ reads empty, so it never matches: only live processes count.
    size_t at = 0;
    bool found = false;
    while ((at = environ_text.find(needle, at)) != std::string::npos) {
      bool starts = at == 0 || environ_text[at - 1] == '\0';
      size_t after = at + needle.size();
      if (starts && (after == environ_text.size() || environ_text[after] == '\0')) {
        found = true;
        break;
      }
      at = after;
    }
    if (!found) continue;
    std::string cmd;
    try {
      cmd = read_text(fs::path("/proc") / name / "cmdline");
    } catch (const std::exception&) {
    }
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    out.push_back(name + " " + cmd);
  }
  ::closedir(dir);
  return out;
}

std::vector<std::string> survivors(const std::set<std::string>& tokens, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    std::vector<std::string> alive;
    for (const std::string& t : tokens) {
      for (std::string& p : processes_with_token(t)) alive.push_back(std::move(p));
    }
    if (alive.empty() || std::chrono::steady_clock::now() >= deadline) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

json read_state_file(const fs::path& repo) {
  fs::path path = repo / ".autoresearch" / "state.json";
  if (!fs::exists(path)) return json::object();
  json j = json::parse(read_text(path), nullptr, false);
  return j.is_object() ? j : json::object();
}

JournalLines read_journal(const fs::path& path) {
  JournalLines out;
  if (!fs::exists(path)) return out;
  std::string text = read_text(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ++out.lines;
    std::string where = "line " + std::to_string(out.lines) + ": ";
    if (end == std::string::npos) {
      out.bad.push_back(where + "no newline at the end: " + text.substr(pos, 200));
      break;
    }
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      out.bad.push_back(where + "not a JSON object: " + line.substr(0, 200));
      continue;
    }
    std::string type = j.value("type", "");
    if (type == "header") {
      out.headers.push_back(std::move(j));
    } else if (type == "experiment") {
      out.experiments.push_back(std::move(j));
    } else if (!type.empty()) {
      out.others.push_back(std::move(j));
    } else {
      out.bad.push_back(where + "no \"type\": " + line.substr(0, 200));
    }
  }
  return out;
}

size_t count_lines(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return 0;
  std::string text;
  try {
    text = read_text(path);
  } catch (const std::exception&) {
    return 0;
  }
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

void expect_session_consistent(const fs::path& repo, const std::string& session, const std::string& start,
                               const std::vector<json>& experiments) {
  // Ids: 1..n, each once. A gap is a lost record; a repeat is a double record.
  std::map<int, int> seen;
  for (const json& r : experiments) ++seen[r.value("id", 0)];
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << "experiment id " << id << " recorded " << n << " times";
  for (int id = 1; id <= static_cast<int>(experiments.size()); ++id) {
    EXPECT_EQ(seen.count(id), 1u) << "no record for experiment id " << id << " (ids should run 1.."
                                  << experiments.size() << ")";
  }

  // The branch holds the kept commits, in order, each naming its experiment.
  const std::string branch = "autoresearch/" + session;
  std::vector<std::pair<int, std::string>> kept;
  for (const json& r : experiments) {
    if (r.value("status", "") == "keep") kept.emplace_back(r.value("id", 0), r.value("commit", ""));
  }
  std::string listed = git(repo, "rev-list --reverse " + branch + " ^" + start);
  std::vector<std::string> commits;
  size_t pos = 0;
  while (pos < listed.size()) {
    size_t end = listed.find('\n', pos);
    if (end == std::string::npos) end = listed.size();
    commits.push_back(listed.substr(pos, end - pos));
    pos = end + 1;
  }
  EXPECT_EQ(commits.size(), kept.size()) << "branch " << branch << " beyond the start:\n" << listed;
  for (size_t i = 0; i < std::min(commits.size(), kept.size()); ++i) {
    EXPECT_EQ(commits[i], kept[i].second) << "kept commit #" << i + 1 << " (experiment " << kept[i].first << ")";
    std::string trailer = git(repo, "log -1 --format='%(trailers:key=Experiment,valueonly)' " + commits[i]);
    EXPECT_EQ(trailer, std::to_string(kept[i].first)) << "trailer of " << commits[i];
  }

  // Both worktrees: clean, at the tip.
  std::string tip = git(repo, "rev-parse " + branch);
  for (const char* wt : {".autoresearch/wt/base", ".autoresearch/wt/cand"}) {
    EXPECT_EQ(git(repo / wt, "rev-parse HEAD"), tip) << wt;
    EXPECT_EQ(git(repo / wt, "status --porcelain --untracked-files=all"), "") << wt;
  }
}

}  // namespace ar::test
