#include "util/affinity.hpp"

#include <algorithm>
#include <charconv>

#include <sched.h>

namespace ar::util {
namespace {

constexpr int k_auto_reserve_from = 4;  // auto keeps one CPU for the orchestrator from 4 CPUs on

std::optional<int> number(std::string_view text) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value >= CPU_SETSIZE) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;  // trailing comma
    const std::size_t dash = item.find('-');
    const auto first = number(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    for (int cpu = *first; cpu <= *last; ++cpu) out.push_back(cpu);
  }
  if (out.empty()) return std::nullopt;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) out.push_back(cpu);
  return out;
}

bool set_affinity(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus)
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

Pinning plan_pinning(const std::string& spec, const std::vector<int>& allowed) {
  Pinning p;
  if (allowed.empty()) return p;  // nothing known: run unpinned
  if (spec == "all") {
    p.benchmark = allowed;
    return p;
  }
  if (spec == "auto") {
    p.benchmark = allowed;
    if (static_cast<int>(allowed.size()) >= k_auto_reserve_from) {
      p.orchestrator = {allowed.front()};
      p.benchmark.erase(p.benchmark.begin());
    }
    return p;
  }
  const auto cpus = parse_cpu_list(spec);
  if (!cpus) {
    p.error = "\"" + spec + "\" is not auto, all or a CPU list such as 2-3 or 0,2,4-5";
    return p;
  }
  for (int cpu : *cpus) {
    if (!std::binary_search(allowed.begin(), allowed.end(), cpu)) {
      p.error = "CPU " + std::to_string(cpu) + " is not one this process may use (" + cpu_list_text(allowed) + ")";
      return p;
    }
  }
  p.benchmark = *cpus;
  for (int cpu : allowed)
    if (!std::binary_search(cpus->begin(), cpus->end(), cpu)) p.orchestrator.push_back(cpu);
  return p;
}

}  // namespace ar::util
