#pragma once
// Internal to proc/: an owning file descriptor and the raw I/O helpers that the spawn, capture
// and stray-process code share. None of these throw; failures leave errno set for the caller.

#include <cstddef>
#include <string>
#include <utility>

#include <unistd.h>

namespace ar::proc::detail {

// Owns one descriptor; closes it on destruction or reset(). Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  void reset() {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd = -1;
};

// The message for errno value `err`.
std::string errno_text(int err);

// Moves `fd` above 0-2 (close-on-exec) if it sits there; false on failure, errno set.
bool lift_above_stdio(Fd& fd);

// A close-on-exec pipe with both ends above 0-2; false on failure, errno set.
bool make_pipe(Fd& read_end, Fd& write_end);

// Writes all of `data`, retrying short writes and EINTR; false on error, errno set.
bool write_all(int fd, const char* data, std::size_t size);

// Reads until `size` bytes, end of file or an error, retrying EINTR; returns the bytes read.
std::size_t read_full(int fd, void* data, std::size_t size);

}  // namespace ar::proc::detail
