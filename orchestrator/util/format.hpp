#pragma once
// How effects are written everywhere a person reads them (console, commit messages, reports,
// proposer context), so the forms cannot drift apart.

#include <string>

#include <fmt/format.h>

namespace ar::util {

// A relative change as a signed percentage: -0.123 -> "-12.3%".
inline std::string pct(double fraction) { return fmt::format("{:+.1f}%", fraction * 100.0); }

// "-12.3% (95% CI -14.0% to -10.5%)".
inline std::string effect_with_ci(double change, double ci_low, double ci_high) {
  return fmt::format("{} (95% CI {} to {})", pct(change), pct(ci_low), pct(ci_high));
}

} // namespace ar::util
