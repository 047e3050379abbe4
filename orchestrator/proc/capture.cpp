// Output capture for run(): the in-memory tail, the line splitter and the capped log file. A
// benchmark that loops printing must not fill the disk or the memory, so every sink is bounded.

#include "proc/capture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>

namespace ar::proc::detail {

void Ring::append(const char* data, std::size_t size) {
  if (m_capacity == 0 || size == 0) return;
  if (size >= m_capacity) {
    m_buf.assign(data + (size - m_capacity), m_capacity);
    m_start = 0;
    return;
  }
  if (m_buf.size() < m_capacity) {
    // Not full yet, so m_start is still 0 and plain appending keeps the order.
    if (m_buf.capacity() < m_capacity) m_buf.reserve(m_capacity);
    std::size_t take = std::min(size, m_capacity - m_buf.size());
    m_buf.append(data, take);
    data += take;
    size -= take;
  }
  while (size > 0) {
    std::size_t take = std::min(size, m_capacity - m_start);
    std::memcpy(&m_buf[m_start], data, take);
    m_start = (m_start + take) % m_capacity;
    data += take;
    size -= take;
  }
}

std::string Ring::str() const {
  std::string out;
  out.reserve(m_buf.size());
  out.append(m_buf, m_start, std::string::npos);
  out.append(m_buf, 0, m_start);
  return out;
}

void LineSplitter::feed(const char* data, std::size_t size) {
  if (!m_on_line) return;
  while (size > 0) {
    const void* found = std::memchr(data, '\n', size);
    std::size_t piece = found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - data) : size;
    take(data, piece);
    if (found == nullptr) return;
    emit();
    data += piece + 1;
    size -= piece + 1;
  }
}

void LineSplitter::finish() {
  if (m_on_line && m_pending) emit();
}

// The rest of an over-long line is dropped unread, so memory stays at max_line_bytes.
void LineSplitter::take(const char* data, std::size_t size) {
  if (size == 0) return;
  m_pending = true;
  std::size_t room = m_max - std::min(m_max, m_line.size());
  m_line.append(data, std::min(room, size));
}

void LineSplitter::emit() {
  std::string line;
  line.swap(m_line);
  m_pending = false;
  m_on_line(line);
  // Reuse the buffer for the next line unless a long line made it big.
  if (line.capacity() <= 4096) {
    line.clear();
    m_line.swap(line);
  }
}

std::string Log::open(const std::filesystem::path& path) {
  m_path = path;
  if (path.empty()) return {};
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
  m_fd = Fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!m_fd.valid() || !lift_above_stdio(m_fd)) {
    return fmt::format("cannot open log {}: {}", path.string(), errno_text(errno));
  }
  return {};
}

// The head goes straight to disk; later bytes only into the ring, because until the child is
// done we cannot know which of them are the tail.
void Log::feed(const char* data, std::size_t size) {
  if (!m_fd.valid()) return;
  if (m_written < m_head) {
    std::size_t direct = static_cast<std::size_t>(std::min<std::uint64_t>(size, m_head - m_written));
    write(data, direct);
    m_written += direct;
    data += direct;
    size -= direct;
  }
  m_after_head += size;
  m_tail.append(data, size);
}

bool Log::finish() {
  if (!m_fd.valid()) return false;
  bool cut = m_after_head > m_tail.size();
  if (cut) {
    std::string marker = fmt::format("\n[autoresearch: output cut: {} bytes omitted]\n", m_after_head - m_tail.size());
    write(marker.data(), marker.size());
  }
  std::string tail = m_tail.str();
  write(tail.data(), tail.size());
  m_fd.reset();
  return cut;
}

void Log::write(const char* data, std::size_t size) {
  if (!m_error.empty() || size == 0) return;
  if (!write_all(m_fd.get(), data, size))
    m_error = fmt::format("cannot write log {}: {}", m_path.string(), errno_text(errno));
}

}  // namespace ar::proc::detail
