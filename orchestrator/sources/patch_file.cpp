#include "sources/patch_file.hpp"

#include "util/files.hpp"

#include <cctype>
#include <vector>

namespace ar::sources {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// A patch file saved with CRLF endings throughout (its diff headers end in \r too) is read as LF;
// otherwise a \r inside the diff is content (a CRLF file being patched) and stays.
bool crlf_throughout(const std::vector<std::string_view>& lines) {
  bool any = false;
  for (std::string_view l : lines) {
    if (starts_with(l, "diff --git ") || starts_with(l, "--- ") || starts_with(l, "+++ ") || starts_with(l, "@@ ")) {
      if (l.empty() || l.back() != '\r') return false;
      any = true;
    }
  }
  return any;
}

// RFC 2047 encoded words in a mail header ("=?UTF-8?q?in=20=C2=B5s?="), as git format-patch
// writes non-ASCII subjects. Bytes are passed through (git writes UTF-8).
std::string decode_rfc2047(const std::string& in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  auto b64 = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  while (i < in.size()) {
    size_t start = in.find("=?", i);
    if (start == std::string::npos) {
      out += in.substr(i);
      break;
    }
    size_t q1 = in.find('?', start + 2);
    size_t q2 = q1 == std::string::npos ? q1 : in.find('?', q1 + 1);
    size_t stop = q2 == std::string::npos ? q2 : in.find("?=", q2 + 1);
    if (stop == std::string::npos || q2 != q1 + 2) {
      out += in.substr(i);
      break;
    }
    std::string between = in.substr(i, start - i);
    // Whitespace between two encoded words is not part of the text.
    if (!(last_was_word && between.find_first_not_of(" \t") == std::string::npos)) out += between;
    char enc = static_cast<char>(std::tolower(static_cast<unsigned char>(in[q1 + 1])));
    std::string payload = in.substr(q2 + 1, stop - q2 - 1);
    if (enc == 'q') {
      for (size_t k = 0; k < payload.size(); ++k) {
        if (payload[k] == '_') {
          out += ' ';
        } else if (payload[k] == '=' && k + 2 < payload.size() && hex(payload[k + 1]) >= 0 && hex(payload[k + 2]) >= 0) {
          out += static_cast<char>(hex(payload[k + 1]) * 16 + hex(payload[k + 2]));
          k += 2;
        } else {
          out += payload[k];
        }
      }
    } else {
      unsigned int acc = 0;
      int bits = 0;
      for (char c : payload) {
        int v = b64(c);
        if (v < 0) continue;
        acc = (acc << 6) | static_cast<unsigned int>(v);
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out += static_cast<char>((acc >> bits) & 0xFF);
        }
      }
    }
    last_was_word = true;
    i = stop + 2;
  }
  return out;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
  return std::string(s.substr(b, e - b));
}

// Index of the first line of the diff, or lines.size().
size_t find_diff_start(const std::vector<std::string_view>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (starts_with(lines[i], "diff --git ")) return i;
    if (starts_with(lines[i], "--- ") && i + 1 < lines.size() && starts_with(lines[i + 1], "+++ ")) return i;
  }
  return lines.size();
}

// "Key: value" header fields with whitespace-indented continuation lines. Lines that are no field
// go to `rest` (the free text of a format-patch body).
struct Fields {
  std::string title, hypothesis, mechanism, idea, rest;
};

void read_fields(const std::vector<std::string_view>& lines, size_t begin, size_t end, Fields& f) {
  std::string* current = nullptr;
  for (size_t i = begin; i < end; ++i) {
    std::string_view line = lines[i];
    if (current != nullptr && !line.empty() && (line[0] == ' ' || line[0] == '\t') && !trim(line).empty()) {
      *current += " " + trim(line);
      continue;
    }
    current = nullptr;
    struct Key {
      std::string_view name;
      std::string* into;
    } keys[] = {{"Title:", &f.title}, {"Hypothesis:", &f.hypothesis}, {"Mechanism:", &f.mechanism}, {"Idea:", &f.idea}};
    bool matched = false;
    for (const Key& k : keys) {
      if (starts_with(line, k.name)) {
        *k.into = trim(line.substr(k.name.size()));
        current = k.into;
        matched = true;
        break;
      }
    }
    if (!matched && !starts_with(line, "#")) {
      std::string t = trim(line);
      if (!t.empty()) f.rest += (f.rest.empty() ? "" : " ") + t;
    }
  }
}

std::string strip_patch_prefix(std::string_view subject) {
  std::string s = trim(subject);
  if (starts_with(s, "[")) {
    size_t close = s.find(']');
    if (close != std::string::npos) s = trim(std::string_view(s).substr(close + 1));
  }
  return s;
}

// The name in a "--- " or "+++ " line, without the timestamp `diff -u` appends after a tab.
std::string raw_name(std::string_view field) {
  std::string p = trim(field.substr(0, field.find('\t')));
  return p;
}

std::string first_component(const std::string& p) { return p.substr(0, p.find('/')); }
std::string drop_first_component(const std::string& p) {
  size_t slash = p.find('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The repository path a plain diff changes, following `patch -p1` / `git apply` conventions:
// "a/x" and "b/x", or "old/src/x" and "new/src/x", name trees whose first component goes; names
// that share their first component ("src/x.c.orig" and "src/x.c") were taken at the root. When the
// two names still differ (a backup copy), the shorter is the file. Plain diffs never rename.
std::string plain_diff_path(const std::string& old_name, const std::string& new_name) {
  bool old_null = old_name == "/dev/null";
  bool new_null = new_name == "/dev/null";
  if (old_null || new_null) {
    std::string p = old_null ? new_name : old_name;
    std::string first = first_component(p);
    return (first == "a" || first == "b") && p.find('/') != std::string::npos ? drop_first_component(p) : p;
  }
  std::string o = old_name, n = new_name;
  bool both_nested = o.find('/') != std::string::npos && n.find('/') != std::string::npos;
  if (both_nested && (first_component(o) != first_component(n))) {
    o = drop_first_component(o);
    n = drop_first_component(n);
  }
  if (o == n) return n;
  return o.size() < n.size() ? o : n;
}

// Adds git headers to a plain unified diff so libgit2 can read it.
std::string gitify(const std::vector<std::string_view>& lines, size_t begin, size_t end, bool drop_cr) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    std::string_view line = drop_cr ? strip_cr(lines[i]) : lines[i];
    if (starts_with(line, "--- ") && i + 1 < end && starts_with(lines[i + 1], "+++ ")) {
      std::string oldn = raw_name(strip_cr(line).substr(4));
      std::string newn = raw_name(strip_cr(lines[i + 1]).substr(4));
      std::string path = plain_diff_path(oldn, newn);
      // `diff -N` shows an added or removed file as a change from or to an empty one.
      std::string_view hunk = i + 2 < end ? strip_cr(lines[i + 2]) : std::string_view();
      bool added = oldn == "/dev/null" || starts_with(hunk, "@@ -0,0 ");
      bool deleted = newn == "/dev/null" || (starts_with(hunk, "@@ ") && hunk.find(" +0,0 @@") != std::string_view::npos);
      out += "diff --git a/" + path + " b/" + path + "\n";
      if (added) out += "new file mode 100644\n";
      if (deleted) out += "deleted file mode 100644\n";
      out += added ? "--- /dev/null\n" : "--- a/" + path + "\n";
      out += deleted ? "+++ /dev/null\n" : "+++ b/" + path + "\n";
      ++i;
      continue;
    }
    if (starts_with(line, "Only in ") || starts_with(line, "diff ")) continue;  // `diff -ru` chatter
    out += std::string(line) + "\n";
  }
  return out;
}

} // namespace

std::string title_from_filename(const std::filesystem::path& file) {
  std::string stem = file.stem().string();
  size_t i = 0;
  while (i < stem.size() && (std::isdigit(static_cast<unsigned char>(stem[i])) != 0)) ++i;
  if (i > 0 && i < stem.size() && (stem[i] == '-' || stem[i] == '_')) stem = stem.substr(i + 1);
  for (char& c : stem) {
    if (c == '-' || c == '_') c = ' ';
  }
  return stem;
}

Hypothesis parse_patch_text(std::string_view text, const std::string& origin) {
  Hypothesis h;
  h.origin = origin;
  h.patch_sha256 = util::sha256_hex(text);
  std::vector<std::string_view> lines = split_lines(text);
  size_t diff_start = find_diff_start(lines);

  Fields f;
  bool mbox = !lines.empty() && (starts_with(lines[0], "From ") || starts_with(lines[0], "Subject:"));
  if (mbox) {
    // Mail headers up to the first blank line, then the body up to the "---" before the diffstat.
    size_t i = 0;
    std::string subject;
    for (; i < diff_start && !strip_cr(lines[i]).empty(); ++i) {
      if (starts_with(lines[i], "Subject:")) {
        subject = trim(lines[i].substr(8));
        while (i + 1 < diff_start && !strip_cr(lines[i + 1]).empty() &&
               (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t')) {
          subject += " " + trim(lines[++i]);
        }
      }
    }
    size_t body_end = i;
    while (body_end < diff_start && strip_cr(lines[body_end]) != "---") ++body_end;
    read_fields(lines, i, body_end, f);
    if (f.title.empty()) f.title = strip_patch_prefix(decode_rfc2047(subject));
    if (f.hypothesis.empty()) f.hypothesis = f.rest;
  } else {
    read_fields(lines, 0, diff_start, f);
    if (f.hypothesis.empty()) f.hypothesis = f.rest;
  }
  h.title = f.title.empty() ? title_from_filename(origin) : f.title;
  h.hypothesis = f.hypothesis;
  h.mechanism = f.mechanism;
  h.idea = f.idea;

  // format-patch output ends with a signature: "-- ", the git version, then blank lines.
  size_t diff_end = lines.size();
  if (mbox) {
    size_t k = lines.size();
    while (k > diff_start && strip_cr(lines[k - 1]).empty()) --k;
    if (k >= diff_start + 2 && strip_cr(lines[k - 2]) == "-- " && !lines[k - 1].empty() &&
        std::isdigit(static_cast<unsigned char>(lines[k - 1][0])) != 0) {
      diff_end = k - 2;
    }
  }
  bool drop_cr = crlf_throughout(lines);
  if (diff_start >= diff_end) return h;
  if (starts_with(lines[diff_start], "diff --git ")) {
    for (size_t i = diff_start; i < diff_end; ++i) h.patch += std::string(drop_cr ? strip_cr(lines[i]) : lines[i]) + "\n";
  } else {
    h.patch = gitify(lines, diff_start, diff_end, drop_cr);
  }
  return h;
}

} // namespace ar::sources
