#pragma once
// A test's fault plan: the process kills itself with SIGKILL the n-th time it reaches a named
// point ("apply", "commit", "spawn:build", ...), so tests can check that the next run repairs
// everything. Product code only calls point()/due(); the plan comes from the caller (the hidden
// `run --fault STAGE[@N]` option), never from the environment. An empty plan does nothing.

#include <map>
#include <string>

namespace ar::util {

class FaultPlan {
 public:
  FaultPlan() = default;
  // "stage" or "stage@n" (n >= 1, default 1).
  static FaultPlan parse(const std::string& text);

  // Counts this arrival at `stage`; true on the planned one.
  bool due(const std::string& stage);
  // Kills the process (SIGKILL, after flushing stdio) when due(stage).
  void point(const std::string& stage);
  // Kills the process now (after flushing stdio): for faults that first do something half-way.
  [[noreturn]] static void die();

 private:
  std::string m_stage;
  int m_at = 1;
  std::map<std::string, int> m_seen;
};

}  // namespace ar::util
