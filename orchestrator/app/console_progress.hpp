#pragma once
// Progress on stderr: one line per finished experiment; the running stage is rewritten in place
// when stderr is a terminal, and printed once per stage change (not per pair) otherwise.

#include "session/progress.hpp"

namespace ar::app {

class ConsoleProgress : public session::Progress {
 public:
  ConsoleProgress();
  void note(const std::string& line) override;
  void stage(int id, const std::string& title, const std::string& stage) override;
  void finished(const journal::ExperimentRecord& record) override;

 private:
  void clear_stage_line();
  bool m_tty;
  bool m_stage_shown = false;
};

}  // namespace ar::app
