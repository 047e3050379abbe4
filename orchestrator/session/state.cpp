#include "session/state.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace ar::session {

void write_state(const Paths& paths, const nlohmann::json& state, bool durable) {
  util::write_file_atomic(paths.state_file, state.dump(2) + "\n", durable);
}

void StateFile::start(const std::string& session, const std::string& token, const nlohmann::json& carried) {
  m_state = {{"pid", static_cast<long>(::getpid())},
             {"session", session},
             {"started_at", util::utc_now_iso()},
             {"token", token},
             {"experiment", carried}};
  write_state(m_paths, m_state, true);
}

void StateFile::begin(const nlohmann::json& experiment) {
  m_state["experiment"] = experiment;
  m_state["updated_at"] = util::utc_now_iso();
  write_state(m_paths, m_state, true);
}

void StateFile::stage(const std::string& stage) {
  if (m_state.contains("experiment") && m_state["experiment"].is_object()) m_state["experiment"]["stage"] = stage;
  m_state["updated_at"] = util::utc_now_iso();
  write_state(m_paths, m_state, false);
}

void StateFile::end() {
  m_state["experiment"] = nullptr;
  write_state(m_paths, m_state, false);
}

void StateFile::slots(const nlohmann::json& table, bool write) {
  m_state["slots"] = table;
  if (write) write_state(m_paths, m_state, false);
}

void StateFile::finish(const std::string& stop_reason) {
  m_state["finished_at"] = util::utc_now_iso();
  m_state["stop_reason"] = stop_reason;
  release();
}

void StateFile::rewrite() {
  write_state(m_paths, m_state, true);
}

void StateFile::release() {
  m_state["pid"] = nullptr;
  write_state(m_paths, m_state, false);
}

std::optional<nlohmann::json> read_state(const Paths& paths) {
  std::optional<std::string> text = util::read_file(paths.state_file);
  if (!text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

bool pid_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

bool lock_held(const Paths& paths) {
  int fd = ::open(paths.lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no lock file: no run ever took it here
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the probe's lock, if it got one
  return held;
}

RunLock::RunLock(const Paths& paths) {
  std::filesystem::create_directories(paths.state_dir);
  m_fd = ::open(paths.lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_fd < 0)
    throw Error(fmt::format("{}: cannot open lock file: {}", paths.lock_file.string(), std::strerror(errno)));
  // lock_held() probes with a shared lock for a moment: a few short retries wait it out.
  bool locked = ::flock(m_fd, LOCK_EX | LOCK_NB) == 0;
  for (int i = 0; i < 10 && !locked && errno == EWOULDBLOCK; ++i) {
    ::usleep(20 * 1000);
    locked = ::flock(m_fd, LOCK_EX | LOCK_NB) == 0;
  }
  if (!locked) {
    std::string holder = util::read_file(paths.lock_file).value_or("");
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    ::close(m_fd);
    m_fd = -1;
    throw Error(fmt::format("another autoresearch run is active in this repository ({}); lock {}",
                            holder.empty() ? "holder unknown" : holder, paths.lock_file.string()));
  }
  std::string previous = util::read_file(paths.lock_file).value_or("");
  long previous_pid = 0;
  if (std::sscanf(previous.c_str(), "pid %ld", &previous_pid) == 1 && previous_pid != ::getpid() &&
      !pid_alive(previous_pid)) {
    while (!previous.empty() && previous.back() == '\n') previous.pop_back();
    m_taken_over = previous;
  }
  std::string me = fmt::format("pid {}, started {}\n", ::getpid(), util::utc_now_iso());
  if (::ftruncate(m_fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(m_fd, me.data(), me.size(), 0);
  }
}

RunLock::~RunLock() {
  if (m_fd >= 0) {
    // An empty lock file means "released cleanly"; a name left in it means its holder died.
    if (::ftruncate(m_fd, 0) != 0) {
      // Nothing to do: the next run only prints a spurious take-over warning.
    }
    ::close(m_fd);  // closing releases the flock
  }
}

}  // namespace ar::session
