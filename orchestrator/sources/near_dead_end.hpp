#pragma once
// A hypothesis whose title nearly repeats a dead end's (word Jaccard similarity >= 0.6) is run
// (the change may differ) but flagged in its record, so the reviewer sees the repetition.
// The index is built once from the session view and then appended to: a lookup touches only the
// dead ends that share a word with the title.

#include "journal/journal.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ar::sources {

class NearDeadEnds {
 public:
  struct Match {
    int id = 0;
    std::string title;
    double similarity = 0;
  };
  void add(const journal::Summary& s);  // ignored unless a dead end (discard, checks_failed)
  std::optional<Match> find(const std::string& title) const;

 private:
  struct Entry {
    int id;
    std::string title;
    std::set<std::string> words;
  };
  std::vector<Entry> m_entries;
  std::map<std::string, std::vector<size_t>> m_by_word;
};

}  // namespace ar::sources
