#include "journal/writer.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ar::journal {

namespace fs = std::filesystem;

namespace {

// The last `n` bytes of the open file `fd` of `size` bytes; nullopt-like empty on a short read is
// fine: the comparison then fails, which is the safe side.
std::string read_tail(int fd, std::uint64_t size, std::size_t n) {
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, n));
  std::string out(want, '\0');
  std::size_t got = 0;
  while (got < want) {
    ssize_t r = ::pread(fd, out.data() + got, want - got, static_cast<off_t>(size - want + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace

Writer::Writer(fs::path path) : m_path(std::move(path)) {
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw Error(fmt::format("{}: cannot open: {}", m_path.string(), std::strerror(errno)));
  }
  struct stat st {};
  ::fstat(fd, &st);
  m_exists = true;
  m_dev = st.st_dev;
  m_ino = st.st_ino;
  m_size = static_cast<std::uint64_t>(st.st_size);
  m_tail = read_tail(fd, m_size, k_tail_bytes);
  ::close(fd);
}

void Writer::check() const {
  auto changed = [&](const std::string& how) {
    return Error(fmt::format("{} changed behind the loop's back since its last record ({}); nothing more is "
                             "appended to it: compare it with what you expect (git diff), restore it, and run again",
                             m_path.string(), how));
  };
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && !m_exists) return;
    if (errno == ENOENT) throw changed("it was deleted");
    throw Error(fmt::format("{}: cannot open: {}", m_path.string(), std::strerror(errno)));
  }
  struct stat st {};
  ::fstat(fd, &st);
  std::string tail = read_tail(fd, static_cast<std::uint64_t>(st.st_size), k_tail_bytes);
  ::close(fd);
  if (!m_exists) {
    if (st.st_size == 0) return;
    throw changed(fmt::format("it appeared with {} bytes", st.st_size));
  }
  if (!S_ISREG(st.st_mode) || st.st_dev != m_dev || st.st_ino != m_ino) throw changed("it was replaced by another file");
  if (static_cast<std::uint64_t>(st.st_size) != m_size) {
    throw changed(fmt::format("{} bytes where the loop left {}", st.st_size, m_size));
  }
  if (tail != m_tail) throw changed("its last records were rewritten");
}

Appended Writer::append(const nlohmann::json& record) {
  check();
  const std::string line = line_of(record);
  Appended at{util::append_durably(m_path, line), line.size() - 1};
  if (!m_exists) {
    struct stat st {};
    if (::stat(m_path.c_str(), &st) == 0) {
      m_dev = st.st_dev;
      m_ino = st.st_ino;
    }
    m_exists = true;
  }
  if (at.offset != m_size) {
    // Someone appended between the check and the write: the next check must fail, so forget the tail.
    m_tail.clear();
  } else {
    m_tail += line;
    if (m_tail.size() > k_tail_bytes) m_tail.erase(0, m_tail.size() - k_tail_bytes);
  }
  m_size = at.offset + line.size();
  return at;
}

}  // namespace ar::journal
