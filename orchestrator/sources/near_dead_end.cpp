#include "sources/near_dead_end.hpp"

#include <cctype>
#include <unordered_map>

namespace ar::sources {

namespace {

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (w.size() > 2) out.insert(w);  // "a", "to", "of" say nothing about the axis
      w.clear();
    }
  }
  return out;
}

}  // namespace

void NearDeadEnds::add(const journal::Summary& s) {
  if (s.status != "discard" && s.status != "checks_failed") return;
  size_t i = m_entries.size();
  m_entries.push_back({s.id, s.title, words(s.title)});
  for (const std::string& w : m_entries.back().words) m_by_word[w].push_back(i);
}

std::optional<NearDeadEnds::Match> NearDeadEnds::find(const std::string& title) const {
  std::set<std::string> mine = words(title);
  if (mine.empty()) return std::nullopt;
  std::unordered_map<size_t, size_t> common;  // entry -> words shared
  for (const std::string& w : mine) {
    auto it = m_by_word.find(w);
    if (it == m_by_word.end()) continue;
    for (size_t i : it->second) ++common[i];
  }
  // The earliest dead end that is similar enough, as the reviewer would list them.
  std::optional<Match> best;
  for (const auto& [i, shared] : common) {
    const Entry& e = m_entries[i];
    double sim = static_cast<double>(shared) / static_cast<double>(mine.size() + e.words.size() - shared);
    if (sim >= 0.6 && (!best || e.id < best->id)) best = Match{e.id, e.title, sim};
  }
  return best;
}

}  // namespace ar::sources
