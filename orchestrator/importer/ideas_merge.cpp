#include "importer/ideas_merge.hpp"

#include "ideas/ideas.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace ar::importer {

using nlohmann::json;

namespace {

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string w;
  auto flush = [&] {
    if (w.size() >= 3) out.insert(w);
    w.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c >= 0x80) {
      w += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string squash(const std::string& text) {
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c >= 0x80) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

constexpr const char* k_ideas_header =
    "# Ideas\n"
    "\n"
    "<!-- One idea per list item (\"- ...\"). autoresearch lists them in `autoresearch status`. -->\n";

}  // namespace

bool tried_idea(const std::string& idea, const std::string& description) {
  std::string a = squash(idea), b = squash(description);
  if (a.size() >= 8 && b.size() >= 8 && (a.find(b) != std::string::npos || b.find(a) != std::string::npos)) return true;
  std::set<std::string> wa = words(idea), wb = words(description);
  if (wa.empty() || wb.empty()) return false;
  size_t common = 0;
  for (const std::string& w : wa) common += wb.count(w);
  size_t all = wa.size() + wb.size() - common;
  return common >= 2 && static_cast<double>(common) / static_cast<double>(all) >= 0.5;
}

IdeasMerge merge_ideas(const std::string& ideas_md, const std::string& pi_ideas, std::vector<json>& records) {
  IdeasMerge m;
  std::string text = ideas_md.empty() ? std::string(k_ideas_header) : ideas_md;
  std::set<std::string> present;
  for (const ideas::Idea& i : ideas::parse_ideas(text)) present.insert(squash(i.text));
  std::vector<ideas::Idea> incoming = ideas::parse_ideas(pi_ideas);
  std::vector<std::string> wanted;  // the pi ideas' texts, in order
  std::string appended;
  for (const ideas::Idea& i : incoming) {
    wanted.push_back(i.text);
    if (present.count(squash(i.text)) != 0) continue;
    present.insert(squash(i.text));
    appended += fmt::format("- {}{}\n", i.done ? "[x] " : "", i.text);
    ++m.added;
  }
  if (!appended.empty()) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "\n## From pi-autoresearch\n\n" + appended;
  }
  text = ideas::with_ids(text);
  // The id of each pi idea, by its text.
  std::vector<std::pair<std::string, std::string>> ids;  // text, id
  for (const ideas::Idea& i : ideas::parse_ideas(text)) {
    for (const std::string& w : wanted) {
      if (squash(w) == squash(i.text)) ids.emplace_back(i.text, i.id);
    }
  }
  for (json& rec : records) {
    const std::string title = rec.value("title", "");
    for (const auto& [idea_text, id] : ids) {
      if (id.empty() || !tried_idea(idea_text, title)) continue;
      if (rec.value("idea", "").empty()) rec["idea"] = id;
      long run = rec["asi"]["pi"].value("run", 0L);
      std::string mark = fmt::format("tried in pi-autoresearch run {} (imported experiment {}): {}", run,
                                     rec.value("id", 0), rec.value("status", ""));
      std::string next = ideas::with_mark(text, id, mark);
      if (next != text) ++m.marked;
      text = std::move(next);
    }
  }
  m.text = std::move(text);
  return m;
}

}  // namespace ar::importer
