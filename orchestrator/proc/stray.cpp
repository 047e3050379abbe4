// Stray-process killing by environment token. A daemon that calls setsid() leaves the process
// group, so killing the group misses it; but the token it inherited is still in the environment
// it was started with, which /proc/<pid>/environ shows for our own user's processes.

#include "proc/fd.hpp"
#include "proc/live.hpp"
#include "proc/subprocess.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>

namespace ar::proc {

namespace detail {
namespace {
std::mutex g_live_mutex;
std::map<pid_t, std::thread::id> g_live;  // running commands and the thread that started each
std::condition_variable g_resumed;
bool g_paused = false;
std::thread::id g_pauser;
std::chrono::steady_clock::time_point g_paused_since;
double g_paused_total = 0;
}  // namespace

std::unique_lock<std::mutex> lock_live_to_spawn() {
  std::unique_lock<std::mutex> lock(g_live_mutex);
  g_resumed.wait(lock, [] { return !g_paused || g_pauser == std::this_thread::get_id(); });
  return lock;
}
std::unique_lock<std::mutex> lock_live() {
  return std::unique_lock<std::mutex>(g_live_mutex);
}
void add_live(pid_t pid) {
  g_live[pid] = std::this_thread::get_id();
}
bool is_live(pid_t pid) {
  return g_live.count(pid) != 0;
}
void remove_live(pid_t pid) {
  std::unique_lock<std::mutex> lock(g_live_mutex);
  g_live.erase(pid);
}
double paused_seconds() {
  std::unique_lock<std::mutex> lock(g_live_mutex);
  double total = g_paused_total;
  if (g_paused && g_pauser != std::this_thread::get_id())
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - g_paused_since).count();
  return total;
}
}  // namespace detail

PauseOthers::PauseOthers() {
  std::unique_lock<std::mutex> lock(detail::g_live_mutex);
  detail::g_paused = true;
  detail::g_pauser = std::this_thread::get_id();
  detail::g_paused_since = std::chrono::steady_clock::now();
  for (const auto& [pid, thread] : detail::g_live) {
    if (thread != detail::g_pauser) ::kill(-pid, SIGSTOP);
  }
}

PauseOthers::~PauseOthers() {
  std::unique_lock<std::mutex> lock(detail::g_live_mutex);
  for (const auto& [pid, thread] : detail::g_live) {
    if (thread != detail::g_pauser) ::kill(-pid, SIGCONT);
  }
  detail::g_paused_total +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - detail::g_paused_since).count();
  detail::g_paused = false;
  detail::g_pauser = std::thread::id();
  lock.unlock();
  detail::g_resumed.notify_all();
}

int kill_by_token(const std::string& token) {
  if (token.empty()) return 0;
  const std::string needle = std::string(k_token_variable) + "=" + token;
  int killed = 0;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return 0;
  const pid_t self = ::getpid();
  std::vector<char> buf(256 * 1024);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
    const std::string path = std::string("/proc/") + e->d_name + "/environ";
    const detail::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    // Entries are NUL-separated; match a whole entry.
    const std::string_view env(buf.data(), detail::read_full(fd.get(), buf.data(), buf.size()));
    std::size_t at = 0;
    while ((at = env.find(needle, at)) != std::string_view::npos) {
      bool starts = at == 0 || env[at - 1] == '\0';
      bool ends = at + needle.size() == env.size() || env[at + needle.size()] == '\0';
      if (starts && ends) {
        if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++killed;
        break;
      }
      at += needle.size();
    }
  }
  ::closedir(dir);
  return killed;
}

bool become_subreaper() {
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
}

namespace {

bool is_subreaper() {
  int on = 0;
  return ::prctl(PR_GET_CHILD_SUBREAPER, &on) == 0 && on != 0;
}

// Our children, from /proc/self/task/*/children; std::nullopt when the kernel does not list them.
std::optional<std::vector<pid_t>> own_children() {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return std::nullopt;
  std::vector<pid_t> out;
  bool listed = false;
  std::vector<char> buf(64 * 1024);
  while (dirent* t = ::readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/self/task/") + t->d_name + "/children";
    const detail::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    listed = true;
    std::string text(buf.data(), detail::read_full(fd.get(), buf.data(), buf.size()));
    const char* p = text.c_str();
    while (*p != '\0') {
      char* end = nullptr;
      long pid = std::strtol(p, &end, 10);
      if (end == p) break;
      if (pid > 0) out.push_back(static_cast<pid_t>(pid));
      p = end;
    }
  }
  ::closedir(tasks);
  if (!listed) return std::nullopt;
  return out;
}

}  // namespace

int sweep_leftovers(const std::string& token, int keep) {
  if (!is_subreaper()) return kill_by_token(token);
  int killed = 0;
  // Each round kills the children we have; their own children then become ours. A round can
  // only find processes that were already there, so this ends.
  for (int round = 0; round < 1000; ++round) {
    // Under the lock: a command another thread starts now is registered before it can be seen.
    std::unique_lock<std::mutex> lock = detail::lock_live();
    std::optional<std::vector<pid_t>> kids = own_children();
    if (!kids) return killed + kill_by_token(token);
    std::vector<pid_t> others;
    for (pid_t k : *kids) {
      if (k != keep && !detail::is_live(k)) others.push_back(k);
    }
    if (others.empty()) return killed;
    for (pid_t k : others) {
      if (::kill(k, SIGKILL) == 0) ++killed;
    }
    for (pid_t k : others) {
      while (::waitpid(k, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  return killed;
}

std::string new_stray_token() {
  unsigned char bytes[16] = {};
  const detail::Fd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (fd.valid()) detail::read_full(fd.get(), bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out + fmt::format("-{}", ::getpid());
}

}  // namespace ar::proc
