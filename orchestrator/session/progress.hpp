#pragma once
// Where a run reports what it is doing. The console implementation (app/console_progress) prints
// one line per finished experiment and rewrites the running stage in place on a terminal; tests
// collect the calls. Implementations must not throw.

#include "journal/record.hpp"

#include <string>

namespace ar::session {

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void note(const std::string& line) = 0;  // a warning or a session event
  virtual void stage(int id, const std::string& title, const std::string& stage) = 0;
  virtual void finished(const journal::ExperimentRecord& record) = 0;
};

}  // namespace ar::session
