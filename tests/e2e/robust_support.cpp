#include "e2e/robust_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ar::test::robust {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Child::output() const {
  std::ifstream in(log, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Child start(const fs::path& cwd, const std::vector<std::string>& args, const fs::path& log,
            const StartOptions& options) {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (options.env.count(name) == 0) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{AUTORESEARCH_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string dir = cwd.string();
  std::string log_path = log.string();
  rlimit as{};
  as.rlim_cur = as.rlim_max = static_cast<rlim_t>(options.address_space_mb) << 20;

  Child child;
  child.log = log;
  child.pid = ::fork();
  if (child.pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child.pid == 0) {
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || ::chdir(dir.c_str()) != 0) _exit(97);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    if (options.address_space_mb > 0) ::setrlimit(RLIMIT_AS, &as);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(98);
  }
  return child;
}

std::string Ended::describe() const {
  if (hung) return "still running at the limit (killed)";
  if (exited) return "exit " + std::to_string(code);
  return "killed by signal " + std::to_string(signal);
}

Ended finish(const Child& child, std::chrono::milliseconds limit) {
  Ended end;
  auto begin = Clock::now();
  int status = 0;
  rusage ru{};
  for (;;) {
    pid_t got = ::wait4(child.pid, &status, WNOHANG, &ru);
    if (got == child.pid) break;
    if (got < 0 && errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
    if (Clock::now() - begin > limit) {
      end.hung = true;
      ::kill(child.pid, SIGKILL);
      while (::wait4(child.pid, &status, 0, &ru) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  end.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  end.max_rss_kb = ru.ru_maxrss;
  if (WIFEXITED(status)) {
    end.exited = true;
    end.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  }
  return end;
}

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ready();
}

nlohmann::json state_of(const fs::path& repo) {
  std::ifstream in(repo / ".autoresearch/state.json", std::ios::binary);
  if (!in) return nlohmann::json::object();
  std::ostringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

bool at_stage(const fs::path& repo, int id, const std::string& stage_prefix) {
  nlohmann::json s = state_of(repo);
  if (!s.contains("experiment") || !s["experiment"].is_object()) return false;
  const nlohmann::json& e = s["experiment"];
  return e.value("id", 0) == id && e.value("stage", "").rfind(stage_prefix, 0) == 0;
}

namespace {

std::string slurp_proc(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool is_zombie(const std::string& pid) {
  std::string stat = slurp_proc("/proc/" + pid + "/stat");
  // "pid (comm) S ...": the state follows the last ')', since comm may hold anything.
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z' || stat[close + 2] == 'X';
}

}  // namespace

std::vector<std::string> processes_with(const std::string& marker) {
  std::vector<std::string> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  std::string self = std::to_string(::getpid());
  while (dirent* e = ::readdir(dir)) {
    std::string pid = e->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid == self) continue;
    std::string cmdline = slurp_proc("/proc/" + pid + "/cmdline");
    std::string env = slurp_proc("/proc/" + pid + "/environ");
    if (cmdline.find(marker) == std::string::npos && env.find(marker) == std::string::npos) continue;
    if (is_zombie(pid)) continue;
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    out.push_back(pid + ": " + cmdline);
  }
  ::closedir(dir);
  return out;
}

std::vector<std::string> survivors(const std::string& marker, std::chrono::milliseconds limit) {
  std::vector<std::string> left;
  wait_until(
      [&] {
        left = processes_with(marker);
        return left.empty();
      },
      limit);
  return left;
}

std::string unique_marker(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "ARTESTMARK_" + stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         std::to_string(Clock::now().time_since_epoch().count() % 1000000007);
}

std::string worktree_status(const fs::path& worktree) {
  return git(worktree, "status --porcelain --untracked-files=all --ignored");
}

void edit_file(const fs::path& path, const std::string& from, const std::string& to) {
  std::string text = read_text(path);
  size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("\"" + from + "\" not found in " + path.string());
  text.replace(at, from.size(), to);
  write_text(path, text);
}

void write_script(const fs::path& path, const std::string& text) {
  write_text(path, text);
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
}

std::vector<nlohmann::json> journal_lines(const fs::path& repo) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(repo / "results.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace ar::test::robust
