#include "app/console_progress.hpp"

#include <unistd.h>
#include <cstdio>

#include <fmt/format.h>

namespace ar::app {

ConsoleProgress::ConsoleProgress() : m_tty(::isatty(STDERR_FILENO) == 1) {}

void ConsoleProgress::clear_stage_line() {
  if (m_tty && m_stage_shown) std::fputs("\r\033[K", stderr);
  m_stage_shown = false;
}

void ConsoleProgress::note(const std::string& line) {
  clear_stage_line();
  std::fprintf(stderr, "%s\n", line.c_str());
}

void ConsoleProgress::stage(int id, const std::string& title, const std::string& stage) {
  std::string line = id > 0 ? fmt::format("  #{} {}: {}", id, title, stage) : fmt::format("  {}: {}", title, stage);
  if (m_tty) {
    clear_stage_line();
    std::fputs(line.substr(0, 150).c_str(), stderr);
    m_stage_shown = true;
  } else if (stage.rfind("pair ", 0) != 0 || stage == "pair 1/" + stage.substr(stage.find('/') + 1)) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ConsoleProgress::finished(const journal::ExperimentRecord& r) {
  clear_stage_line();
  std::string status = journal::to_string(r.status);
  std::string detail;
  if (r.measurement) {
    detail = fmt::format("{} {} in {} pairs", r.measurement->primary.name,
                         journal::effect_text(r.measurement->primary.effect), r.measurement->pairs);
  }
  std::fprintf(stderr, "#%-3d %-13s %s%s%s%s\n", r.run.id, status.c_str(), r.run.title.c_str(),
               detail.empty() ? "" : "  ", detail.c_str(),
               r.reason.empty() || r.status == journal::Status::keep ? "" : ("  [" + r.reason + "]").c_str());
  std::fflush(stderr);
}

}  // namespace ar::app
