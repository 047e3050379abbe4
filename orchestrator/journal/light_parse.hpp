#pragma once
// A fast reading of one experiment line for the summary index: the line's structure is checked at
// the byte level (balanced brackets, terminated strings, one object), and only the values a
// Summary and the validation need are parsed; samples, secondary metrics, guards, confirms, gates,
// durations, timestamps, the decision and asi beyond a sweep's fields are skipped (object-valued ones stay as empty
// objects, so their types are still checked). Lexing every sample of 100,000 records is what made a cold index build
// slow.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ar::journal {

// std::nullopt when the line is not a well-formed JSON object at that level, or uses a form this
// reader does not handle (escaped keys): the caller then parses the line in full, which also
// gives the precise error.
std::optional<nlohmann::json> parse_for_summary(std::string_view line);

}  // namespace ar::journal
