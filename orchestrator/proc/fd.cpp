// Raw descriptor helpers for proc/. Kept apart from the fork code so the retry rules for EINTR
// and short reads and writes are written once.

#include "proc/fd.hpp"

#include <cerrno>
#include <system_error>

#include <fcntl.h>

namespace ar::proc::detail {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

// If the program was started with stdin closed, a pipe could land on fd 0, and the child's dup2
// of /dev/null onto 0 would clobber it before it is used.
bool lift_above_stdio(Fd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (lifted < 0) return false;
  fd = Fd(lifted);
  return true;
}

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return lift_above_stdio(read_end) && lift_above_stdio(write_end);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::size_t read_full(int fd, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, bytes + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace ar::proc::detail
