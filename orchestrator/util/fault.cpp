#include "util/fault.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace ar::util {

FaultPlan FaultPlan::parse(const std::string& text) {
  FaultPlan plan;
  size_t at = text.find('@');
  plan.m_stage = text.substr(0, at);
  if (at != std::string::npos) plan.m_at = std::max(1, std::atoi(text.c_str() + at + 1));
  return plan;
}

bool FaultPlan::due(const std::string& stage) {
  if (m_stage.empty() || stage != m_stage) return false;
  // Executor slots reach points from several threads; only a planned stage ever gets here.
  static std::mutex counting;
  std::lock_guard<std::mutex> lock(counting);
  return ++m_seen[stage] == m_at;
}

void FaultPlan::point(const std::string& stage) {
  if (due(stage)) die();
}

void FaultPlan::die() {
  std::fflush(nullptr);
  ::raise(SIGKILL);
  std::abort();
}

}  // namespace ar::util
