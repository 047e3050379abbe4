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
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = end + 1;
  }
  return lines;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

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

// "a/src/x.c\t2024-01-01 ..." -> "src/x.c"; "/dev/null" stays.
std::string diff_path(std::string_view raw) {
  std::string p = std::string(raw.substr(0, raw.find('\t')));
  p = trim(p);
  if (p == "/dev/null") return p;
  if (starts_with(p, "a/") || starts_with(p, "b/")) p = p.substr(2);
  return p;
}

// Adds git headers to a plain unified diff so libgit2 can read it.
std::string gitify(const std::vector<std::string_view>& lines, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    std::string_view line = lines[i];
    if (starts_with(line, "--- ") && i + 1 < end && starts_with(lines[i + 1], "+++ ")) {
      std::string oldp = diff_path(line.substr(4));
      std::string newp = diff_path(lines[i + 1].substr(4));
      std::string name = newp == "/dev/null" ? oldp : newp;
      out += "diff --git a/" + (oldp == "/dev/null" ? name : oldp) + " b/" + name + "\n";
      if (oldp == "/dev/null") out += "new file mode 100644\n";
      if (newp == "/dev/null") out += "deleted file mode 100644\n";
      out += oldp == "/dev/null" ? "--- /dev/null\n" : "--- a/" + oldp + "\n";
      out += newp == "/dev/null" ? "+++ /dev/null\n" : "+++ b/" + newp + "\n";
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
    for (; i < diff_start && !lines[i].empty(); ++i) {
      if (starts_with(lines[i], "Subject:")) {
        subject = trim(lines[i].substr(8));
        while (i + 1 < diff_start && !lines[i + 1].empty() && (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t')) {
          subject += " " + trim(lines[++i]);
        }
      }
    }
    size_t body_end = i;
    while (body_end < diff_start && lines[body_end] != "---") ++body_end;
    read_fields(lines, i, body_end, f);
    if (f.title.empty()) f.title = strip_patch_prefix(subject);
    if (f.hypothesis.empty()) f.hypothesis = f.rest;
  } else {
    read_fields(lines, 0, diff_start, f);
    if (f.hypothesis.empty()) f.hypothesis = f.rest;
  }
  h.title = f.title.empty() ? title_from_filename(origin) : f.title;
  h.hypothesis = f.hypothesis;
  h.mechanism = f.mechanism;
  h.idea = f.idea;

  // The diff ends before a format-patch signature ("-- " then the git version).
  size_t diff_end = lines.size();
  for (size_t i = diff_start; i < lines.size(); ++i) {
    if (lines[i] == "-- " && i + 2 >= lines.size() - 1) {
      diff_end = i;
      break;
    }
  }
  if (diff_start >= diff_end) return h;
  if (starts_with(lines[diff_start], "diff --git ")) {
    for (size_t i = diff_start; i < diff_end; ++i) h.patch += std::string(lines[i]) + "\n";
  } else {
    h.patch = gitify(lines, diff_start, diff_end);
  }
  return h;
}

} // namespace ar::sources
