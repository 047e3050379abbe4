#include "sources/near_dead_end.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

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
  // Similarity >= 0.6 needs at least ceil(0.6 * |mine|) shared words, so a match holds one of any
  // |mine| - ceil(0.6 * |mine|) + 1 of them: only the postings of the rarest words are read, and
  // a word every title has ("the") costs nothing.
  std::vector<const std::vector<size_t>*> postings;
  for (const std::string& w : mine) {
    auto it = m_by_word.find(w);
    postings.push_back(it == m_by_word.end() ? nullptr : &it->second);
  }
  std::sort(postings.begin(), postings.end(), [](const auto* a, const auto* b) {
    return (a == nullptr ? 0 : a->size()) < (b == nullptr ? 0 : b->size());
  });
  size_t need = (mine.size() * 6 + 9) / 10;  // ceil(0.6 * |mine|)
  size_t probe = mine.size() - need + 1;
  std::unordered_set<size_t> candidates;
  for (size_t i = 0; i < probe && i < postings.size(); ++i) {
    if (postings[i] != nullptr) candidates.insert(postings[i]->begin(), postings[i]->end());
  }
  // The earliest dead end that is similar enough, as the reviewer would list them.
  std::optional<Match> best;
  for (size_t i : candidates) {
    const Entry& e = m_entries[i];
    size_t shared = 0;
    for (const std::string& w : mine) shared += e.words.count(w);
    double sim = static_cast<double>(shared) / static_cast<double>(mine.size() + e.words.size() - shared);
    if (sim >= 0.6 && (!best || e.id < best->id)) best = Match{e.id, e.title, sim};
  }
  return best;
}

}  // namespace ar::sources
