#pragma once
// Sweeps (DESIGN §6): the first match of a pattern with one capture group has its group replaced
// by a value.

#include <string>

namespace ar::sources {

struct SweepEdit {
  bool found = false;   // the pattern matched
  std::string current;  // the captured text before the edit
  std::string text;     // the whole text with the group replaced by the value
};

// Throws std::regex_error for a bad pattern (the config loader has already checked it).
SweepEdit apply_sweep(const std::string& text, const std::string& pattern, const std::string& value);

// The identity of one sweep point in the journal ("sweep:<name>=<value>").
std::string sweep_key(const std::string& name, const std::string& value);

} // namespace ar::sources
