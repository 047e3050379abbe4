#include "sources/sweep.hpp"

#include <regex>

namespace ar::sources {

SweepEdit apply_sweep(const std::string& text, const std::string& pattern, const std::string& value) {
  SweepEdit out;
  std::regex re(pattern);
  std::smatch m;
  if (!std::regex_search(text, m, re) || m.size() < 2 || !m[1].matched) return out;
  out.found = true;
  out.current = m[1].str();
  auto begin = static_cast<size_t>(m.position(1));
  out.text = text.substr(0, begin) + value + text.substr(begin + static_cast<size_t>(m.length(1)));
  return out;
}

std::string sweep_key(const std::string& name, const std::string& value) { return "sweep:" + name + "=" + value; }

} // namespace ar::sources
