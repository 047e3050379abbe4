#include "pipeline/stage.hpp"

#include "util/interrupt.hpp"

#include <fmt/format.h>

namespace ar::pipeline {

void Context::stage(int id, const std::string& title, const std::string& name) {
  if (on_stage) {
    on_stage(id, title, name);
    return;
  }
  // id 0: work outside an experiment (base build, calibration); it must not relabel one.
  if (id > 0) session.state().stage(name);
  session.progress().stage(id, title, name);
}

StageResult command_outcome(const exec::CommandResult& r, const std::string& what, journal::Status failed_status) {
  if (r.ok()) return std::nullopt;
  if (r.interrupted()) return Outcome{journal::Status::interrupted, ""};
  if (r.timed_out()) return Outcome{journal::Status::timeout, what + " " + r.process.describe()};
  return Outcome{failed_status, fmt::format("{} failed: {}", what, r.process.describe())};
}

}  // namespace ar::pipeline
