#include "ideas/ideas.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace ar::ideas {

namespace {

constexpr const char* k_mark_prefix = "- autoresearch: ";

// Length of a list marker at the start of `line` ("- ", "* ", "12. "), or 0.
size_t list_marker(const std::string& line) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') return 2;
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) != 0) ++i;
  if (i > 0 && i + 1 < line.size() && (line[i] == '.' || line[i] == ')') && line[i + 1] == ' ') return i + 2;
  return 0;
}

// A line and its ending ("\n", "\r\n" or "" for the last line), so edits keep the bytes.
struct Line {
  std::string text;
  std::string eol;
};

std::vector<Line> split(const std::string& s) {
  std::vector<Line> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    Line l;
    if (end == std::string::npos) {
      l.text = s.substr(pos);
      pos = s.size();
    } else {
      l.text = s.substr(pos, end - pos);
      l.eol = "\n";
      pos = end + 1;
    }
    if (!l.text.empty() && l.text.back() == '\r') {
      l.text.pop_back();
      l.eol = "\r" + l.eol;
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::string join(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.text + l.eol;
  return out;
}

// The id at the end of an item's first line: "... [#i12]".
std::string id_of(const std::string& line) {
  size_t open = line.rfind(" [#i");
  if (open == std::string::npos || line.back() != ']') return "";
  std::string id = line.substr(open + 3, line.size() - open - 4);
  if (id.size() < 2 || id[0] != 'i') return "";
  for (size_t i = 1; i < id.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(id[i])) == 0) return "";
  }
  return id;
}

bool is_fence(const std::string& text) {
  return text.rfind("```", 0) == 0;
}
bool is_continuation(const std::string& text) {
  return !text.empty() && (text[0] == ' ' || text[0] == '\t');
}

std::string trim_left(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

}  // namespace

std::vector<Idea> parse_ideas(const std::string& markdown) {
  std::vector<Idea> out;
  bool in_item = false;
  bool in_fence = false;
  std::vector<Line> lines = split(markdown);
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n].text;
    if (is_fence(line)) {
      in_fence = !in_fence;
      in_item = false;
      continue;
    }
    if (in_fence) continue;
    if (size_t m = list_marker(line)) {
      Idea idea;
      idea.line = static_cast<int>(n) + 1;
      std::string text = line.substr(m);
      if (text.rfind("[ ] ", 0) == 0) {
        text = text.substr(4);
      } else if (text.rfind("[x] ", 0) == 0 || text.rfind("[X] ", 0) == 0) {
        text = text.substr(4);
        idea.done = true;
      }
      idea.id = id_of(text);
      if (!idea.id.empty()) text = text.substr(0, text.rfind(" [#i"));
      idea.text = text;
      out.push_back(idea);
      in_item = true;
    } else if (in_item && is_continuation(line)) {
      std::string t = trim_left(line);
      if (t.rfind(k_mark_prefix, 0) == 0) {
        out.back().marks.push_back(t.substr(std::strlen(k_mark_prefix)));
      } else if (!t.empty()) {
        out.back().text += " " + t;
      }
    } else {
      in_item = false;
    }
  }
  return out;
}

std::vector<Idea> read_ideas(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  return text ? parse_ideas(*text) : std::vector<Idea>{};
}

std::string with_ids(const std::string& markdown) {
  std::vector<Line> lines = split(markdown);
  int next = 1;
  for (const Idea& idea : parse_ideas(markdown)) {
    if (!idea.id.empty()) next = std::max(next, std::atoi(idea.id.c_str() + 1) + 1);
  }
  bool in_fence = false;
  bool changed = false;
  for (Line& l : lines) {
    if (is_fence(l.text)) in_fence = !in_fence;
    if (in_fence || list_marker(l.text) == 0) continue;
    if (!id_of(l.text).empty()) continue;
    std::string body = l.text.substr(list_marker(l.text));
    if (trim_left(body).empty()) continue;  // an empty item is no idea yet
    while (!l.text.empty() && (l.text.back() == ' ' || l.text.back() == '\t')) l.text.pop_back();
    l.text += fmt::format(" [#i{}]", next++);
    changed = true;
  }
  return changed ? join(lines) : markdown;
}

std::string with_mark(const std::string& markdown, const std::string& id, const std::string& mark) {
  std::vector<Line> lines = split(markdown);
  bool in_fence = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_fence(lines[i].text)) in_fence = !in_fence;
    if (in_fence || list_marker(lines[i].text) == 0 || id_of(lines[i].text) != id) continue;
    size_t end = i + 1;
    while (end < lines.size() && is_continuation(lines[end].text)) {
      if (trim_left(lines[end].text) == k_mark_prefix + mark) return markdown;  // already there
      ++end;
    }
    std::string eol = lines[i].eol.empty() ? "\n" : lines[i].eol;
    if (lines[end - 1].eol.empty()) lines[end - 1].eol = eol;  // the item was the file's last line
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(end), Line{"  " + std::string(k_mark_prefix) + mark, eol});
    return join(lines);
  }
  return markdown;
}

namespace {

std::optional<std::string> read_fd(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace

namespace {

bool write_tmp(const std::string& tmp, const std::string& text, mode_t mode) {
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(out, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == text.size() && ::fsync(out) == 0;
  ::close(out);
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

// Atomically swaps two names (renameat2 RENAME_EXCHANGE); false where the file system cannot.
bool exchange(const std::string& a, const std::string& b) {
#ifdef RENAME_EXCHANGE
  return ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
#else
  (void)a;
  (void)b;
  errno = ENOSYS;
  return false;
#endif
}

}  // namespace

void remove_stale_temp_files(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const std::string prefix = path.filename().string() + ".autoresearch-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path.parent_path().empty() ? "." : path.parent_path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 5 || name.substr(name.size() - 4) != ".tmp")
      continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;  // its writer is alive
    fs::remove(entry.path(), ec);
  }
}

bool update_file_safely(const std::filesystem::path& link_or_file,
                        const std::function<std::string(const std::string&)>& transform) {
  // A symlinked file is written through to its target, and stays a symlink.
  std::error_code link_ec;
  const std::filesystem::path path = std::filesystem::is_symlink(link_or_file, link_ec)
                                         ? std::filesystem::canonical(link_or_file, link_ec)
                                         : link_or_file;
  if (link_ec) return false;  // a dangling link: nothing to update
  const std::string tmp = path.string() + fmt::format(".autoresearch-{}.tmp", ::getpid());
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      throw Error(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    }
    struct stat before {};
    ::fstat(fd, &before);
    std::optional<std::string> base = read_fd(fd);
    if (!base) {
      ::close(fd);
      throw Error(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    }
    std::string next = transform(*base);
    if (next == *base) {
      ::close(fd);
      return true;
    }
    if (!write_tmp(tmp, next, before.st_mode & 07777)) {
      int err = errno;
      ::close(fd);
      throw Error(fmt::format("{}: cannot write: {}", tmp, std::strerror(err)));
    }
    // Cheap last look: the person edited while we computed: start over from their text.
    std::optional<std::string> again = read_fd(fd);
    if (!again || *again != *base) {
      ::unlink(tmp.c_str());
      ::close(fd);
      continue;
    }
    // Swap our version in; `tmp` then names whatever `path` held at that instant.
    bool swapped = exchange(tmp, path.string());
    if (!swapped) {
      // No RENAME_EXCHANGE here: check the name once more, then rename (a small window remains).
      struct stat now {};
      if (::stat(path.c_str(), &now) != 0 || now.st_ino != before.st_ino) {
        ::unlink(tmp.c_str());
        ::close(fd);
        continue;
      }
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        ::close(fd);
        throw Error(fmt::format("{}: cannot replace: {}", path.string(), std::strerror(err)));
      }
    } else {
      struct stat replaced {};
      if (::stat(tmp.c_str(), &replaced) == 0 &&
          (replaced.st_ino != before.st_ino || replaced.st_dev != before.st_dev)) {
        // An editor saved a new file since we read: give it its name back and start from its text.
        exchange(tmp, path.string());
        ::unlink(tmp.c_str());
        ::close(fd);
        continue;
      }
      ::unlink(tmp.c_str());
    }
    // A writer that opened the old file before the swap may still write into it: give in-place
    // writers a moment, then look at the old file through the descriptor we hold.
    ::usleep(20000);
    std::optional<std::string> late = read_fd(fd);
    ::close(fd);
    if (!late || *late == *base) return true;
    if (late->size() > base->size() && late->compare(0, base->size(), *base) == 0) {
      // Appended to the old file: those bytes were written before anything that reached the new
      // file after `next`, so they go right there, through the same safe path.
      std::string added = late->substr(base->size());
      update_file_safely(path, [&](const std::string& now) {
        if (now.compare(0, next.size(), next) == 0) return next + added + now.substr(next.size());
        return now.find(added) == std::string::npos ? now + added : now;
      });
      return true;
    }
    // Rewritten in place: the person's text wins; put it back (keeping what reached the new file
    // after ours), then apply our change on top of it in the next round.
    update_file_safely(path, [&](const std::string& now) {
      if (now.compare(0, next.size(), next) == 0) return *late + now.substr(next.size());
      return now;
    });
  }
  throw Error(fmt::format("{}: gave up after 100 conflicting edits", path.string()));
}

}  // namespace ar::ideas
