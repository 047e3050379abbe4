#pragma once
// What happens around each experiment without steering it: progress lines, the user's before and
// after hooks, and the outcome marks in ideas.md. Observers never change an outcome; a failing
// hook or an ideas.md that cannot be written is a warning.

#include "pipeline/stage.hpp"
#include "sources/patch_file.hpp"

#include <memory>
#include <vector>

namespace ar::app {

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void before(const sources::Hypothesis&, int /*id*/) {}
  virtual void after(const journal::ExperimentRecord&) {}
};

// progress.finished(record).
std::unique_ptr<Observer> progress_observer(session::Progress& progress);
// hooks.before / hooks.after: run in the user's checkout with a JSON description on stdin.
std::unique_ptr<Observer> hook_observer(pipeline::Context& ctx);
// Marks the experiment's idea in ideas.md (kept, dead end, inconclusive, or the failure).
std::unique_ptr<Observer> ideas_observer(session::Session& session);

}  // namespace ar::app
