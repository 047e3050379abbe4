#include "util/files.hpp"

#include "util/error.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ar::util {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Writes all of `data`, retrying short writes and EINTR.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

} // namespace

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

AtomicFile::AtomicFile(std::filesystem::path path) : m_path(std::move(path)) {
  m_tmp = (m_path.parent_path() / ("." + m_path.filename().string() + ".tmp-XXXXXX")).string();
  m_fd = ::mkstemp(m_tmp.data());
  if (m_fd < 0) throw Error(fmt::format("{}: cannot create temp file: {}", m_path.string(), errno_text()));
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
    ::unlink(m_tmp.c_str());
  }
}

void AtomicFile::write(std::string_view data) {
  if (!write_all(m_fd, data)) throw Error(fmt::format("{}: cannot write: {}", m_path.string(), errno_text()));
}

void AtomicFile::commit(bool durable) {
  bool ok = !durable || ::fsync(m_fd) == 0;
  int saved = errno;
  // Keep the permissions of the file we replace (ideas.md may be group-writable, say).
  struct stat st {};
  if (ok && ::stat(m_path.c_str(), &st) == 0) ::fchmod(m_fd, st.st_mode & 07777);
  else if (ok) ::fchmod(m_fd, 0644);
  ::close(m_fd);
  m_fd = -1;
  if (!ok || ::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(m_tmp.c_str());
    throw Error(fmt::format("{}: cannot write: {}", m_path.string(), std::strerror(saved)));
  }
  if (durable) fsync_dir(m_path.parent_path());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content, bool durable) {
  AtomicFile file(path);
  file.write(content);
  file.commit(durable);
}

std::uint64_t append_durably(const std::filesystem::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot open for append: {}", path.string(), errno_text()));
  struct stat before {};
  ::fstat(fd, &before);
  bool ok = write_all(fd, content) && ::fsync(fd) == 0;
  int saved = errno;
  // With O_APPEND the file offset after the write is the end of our own bytes, even if another
  // process appended in between.
  off_t end = ok ? ::lseek(fd, 0, SEEK_CUR) : -1;
  if (!ok) {
    // Never leave half a record: cut the file back to where it was.
    if (::ftruncate(fd, before.st_size) == 0) ::fsync(fd);
  }
  ::close(fd);
  if (!ok) throw Error(fmt::format("{}: cannot append: {}", path.string(), std::strerror(saved)));
  if (end < 0) return static_cast<std::uint64_t>(before.st_size);
  return static_cast<std::uint64_t>(end) - content.size();
}

namespace {

// FIPS 180-4 SHA-256.
class Sha256 {
public:
  void update(std::string_view data) {
    for (unsigned char c : data) {
      m_block[m_fill++] = c;
      if (m_fill == 64) {
        compress();
        m_fill = 0;
      }
    }
    m_bits += static_cast<std::uint64_t>(data.size()) * 8;
  }

  std::string hex() {
    std::uint64_t bits = m_bits;
    m_block[m_fill++] = 0x80;
    if (m_fill > 56) {
      while (m_fill < 64) m_block[m_fill++] = 0;
      compress();
      m_fill = 0;
    }
    while (m_fill < 56) m_block[m_fill++] = 0;
    for (int i = 7; i >= 0; --i) m_block[m_fill++] = static_cast<unsigned char>(bits >> (i * 8));
    compress();
    std::string out;
    for (std::uint32_t h : m_h) out += fmt::format("{:08x}", h);
    return out;
  }

private:
  static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void compress() {
    static constexpr std::array<std::uint32_t, 64> k = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
      w[i] = (std::uint32_t{m_block[i * 4]} << 24) | (std::uint32_t{m_block[i * 4 + 1]} << 16) |
             (std::uint32_t{m_block[i * 4 + 2]} << 8) | std::uint32_t{m_block[i * 4 + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = m_h;
    for (int i = 0; i < 64; ++i) {
      std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      std::uint32_t t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) m_h[i] += v[i];
  }

  std::array<std::uint32_t, 8> m_h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<unsigned char, 64> m_block{};
  std::size_t m_fill = 0;
  std::uint64_t m_bits = 0;
};

} // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string utc_now_iso() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double monotonic_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

} // namespace ar::util
