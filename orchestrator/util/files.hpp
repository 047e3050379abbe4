#pragma once
// Small file helpers. Low layer: they return false / std::nullopt with an error string instead of
// throwing, except where noted.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ar::util {

// Reads a whole file; std::nullopt if it cannot be opened (errno is preserved).
std::optional<std::string> read_file(const std::filesystem::path& path);

// Replaces `path` atomically: writes a temp file in the same folder, fsyncs it, renames it over
// `path` and fsyncs the folder. Throws ar::Error naming the path on failure; never leaves a
// half-written `path` behind. With durable = false the fsyncs are skipped: the rename is still
// atomic for readers and survives the process being killed, only not a power cut.
void write_file_atomic(const std::filesystem::path& path, std::string_view content, bool durable = true);

// write_file_atomic for content produced piece by piece (a large report): write() as often as
// needed, then commit(). Without commit() (an exception) the temp file is removed and `path` is
// left as it was. Throws ar::Error naming the path on failure.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(std::string_view data);
  void commit(bool durable = true);  // see write_file_atomic for `durable`

 private:
  std::filesystem::path m_path;
  std::string m_tmp;
  int m_fd = -1;
};

// Appends `content` to `path` with one write(2) and fsyncs it. Throws ar::Error naming the path
// on failure (disk full, read-only): the caller decides whether the loop can go on. Returns the
// byte offset at which `content` starts in the file.
std::uint64_t append_durably(const std::filesystem::path& path, std::string_view content);

// Hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view data);

// ISO 8601 UTC timestamp with seconds, e.g. 2026-11-21T19:31:44Z.
std::string utc_now_iso();

// Seconds since an arbitrary monotonic epoch.
double monotonic_seconds();

} // namespace ar::util
