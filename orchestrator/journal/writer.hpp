#pragma once
// The loop's one writer of results.jsonl. It remembers what it last saw and wrote: the file's
// identity (device and inode), its length and its last bytes. Before each append the file must
// still match; otherwise something changed the journal behind the loop's back (a command run
// unconfined, another program, a person), and the writer stops with an error naming the file
// instead of appending to a journal it can no longer vouch for. The check reads at most 4 KiB
// whatever the journal's size.

#include "journal/journal.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ar::journal {

class Writer {
 public:
  // Takes the checkpoint of the journal as it is now (load it and validate it first). A missing
  // file is a checkpoint too: empty.
  explicit Writer(std::filesystem::path path);

  // Checks the checkpoint (ar::Error "<path> changed behind the loop's back ..." when it does not
  // hold), appends the record as one fsync'd line (as journal::append) and moves the checkpoint.
  Appended append(const nlohmann::json& record);

  static constexpr std::size_t k_tail_bytes = 4096;

 private:
  void check() const;

  std::filesystem::path m_path;
  bool m_exists = false;
  dev_t m_dev = 0;
  ino_t m_ino = 0;
  std::uint64_t m_size = 0;
  std::string m_tail;  // the file's last min(size, k_tail_bytes) bytes
};

}  // namespace ar::journal
