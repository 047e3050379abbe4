#pragma once
// Internal to proc/: where a child's output goes once read from the pipe. Each sink holds bounded
// memory however much the child writes: Ring the last N bytes, LineSplitter one line (cut at a
// limit), Log the bytes past the file's head until the run ends. Not thread-safe.

#include "proc/fd.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ar::proc::detail {

// The last `capacity` bytes of a stream, in O(capacity) memory.
class Ring {
 public:
  explicit Ring(std::size_t capacity) : m_capacity(capacity) {}

  void append(const char* data, std::size_t size);
  std::size_t size() const { return m_buf.size(); }
  // The bytes held, oldest first.
  std::string str() const;

 private:
  std::size_t m_capacity;
  std::string m_buf;
  std::size_t m_start = 0;
};

// Splits the stream into lines for `on_line` (without their '\n'); a line longer than
// `max_line_bytes` is passed on cut. Does nothing when `on_line` is empty. Keeps a reference to
// `on_line`, which must outlive it; exceptions from `on_line` propagate.
class LineSplitter {
 public:
  LineSplitter(const std::function<void(std::string_view)>& on_line, std::size_t max_line_bytes)
      : m_on_line(on_line), m_max(max_line_bytes) {}

  void feed(const char* data, std::size_t size);
  // Passes on the last line, which may lack its '\n'.
  void finish();

 private:
  void take(const char* data, std::size_t size);
  void emit();

  const std::function<void(std::string_view)>& m_on_line;
  std::size_t m_max;
  std::string m_line;
  bool m_pending = false;  // a line has started (it may be empty after a cut at 0 bytes)
};

// The log file of one run: the first `head_bytes` as they come, then, at finish(), a cut marker
// with the count of bytes omitted and the last `tail_bytes`. Write errors do not stop the run;
// the first is kept in error().
class Log {
 public:
  Log(std::uint64_t head_bytes, std::uint64_t tail_bytes)
      : m_head(head_bytes), m_tail(static_cast<std::size_t>(tail_bytes)) {}

  // Opens `path` for appending, creating its folder. Returns an error message, or empty when the
  // log is open (or not wanted: `path` empty).
  std::string open(const std::filesystem::path& path);
  void feed(const char* data, std::size_t size);
  // Writes what the tail holds and closes the file; returns true when bytes were omitted.
  bool finish();
  const std::string& error() const { return m_error; }

 private:
  void write(const char* data, std::size_t size);

  std::uint64_t m_head;
  Ring m_tail;
  std::filesystem::path m_path;
  Fd m_fd;
  std::uint64_t m_written = 0;
  std::uint64_t m_after_head = 0;
  std::string m_error;
};

}  // namespace ar::proc::detail
