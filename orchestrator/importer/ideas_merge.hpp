#pragma once
// pi's ideas file into ideas.md: each pi idea becomes an item (unless an item with the same text
// is there already), every item gets its id, and an idea that an imported run tried (its
// description names the idea closely) gets a mark per run, and that run's record its `idea`.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::importer {

// Whether a run described as `description` tried the idea `idea`: one's words contain the
// other's, or they share most of their words (Jaccard >= 0.5 over words of 3+ letters).
bool tried_idea(const std::string& idea, const std::string& description);

struct IdeasMerge {
  std::string text;    // the new ideas.md
  int added = 0;       // items appended
  int marked = 0;      // marks added
};

// `ideas_md`: ideas.md as it is ("" when missing). `pi_ideas`: pi's ideas file. `records`: the
// imported experiment records (title, status, id, asi.pi.run); their `idea` is set here.
IdeasMerge merge_ideas(const std::string& ideas_md, const std::string& pi_ideas, std::vector<nlohmann::json>& records);

}  // namespace ar::importer
