// The config in force as JSON, for the journal's header line. Durations are written the way a
// person would type them so the header reads like the file; the journal compares these objects
// to notice a change of config, so every field that changes behaviour must appear.

#include "config/config.hpp"

namespace ar::config {

namespace {

nlohmann::json confirms_json(const std::vector<decide::ConfirmSpec>& confirms) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : confirms) out.push_back({{"name", c.name}, {"direction", decide::to_string(c.direction)}});
  return out;
}

nlohmann::json sources_json(const Sources& s) {
  nlohmann::json sweeps = nlohmann::json::array();
  for (const auto& w : s.sweeps) {
    sweeps.push_back({{"name", w.name},
                      {"file", w.file},
                      {"pattern", w.pattern},
                      {"values", w.values},
                      {"mechanism", w.mechanism},
                      {"idea", w.idea}});
  }
  nlohmann::json order = nlohmann::json::array();
  for (SourceKind k : s.order) order.push_back(to_string(k));
  return {{"queue", {{"dir", s.queue.dir}}},
          {"sweeps", sweeps},
          {"proposer",
           {{"command", s.proposer.command},
            {"timeout", format_duration(s.proposer.timeout)},
            {"notes", s.proposer.notes},
            {"recent", s.proposer.recent}}},
          {"order", order}};
}

}  // namespace

const char* to_string(SourceKind kind) {
  switch (kind) {
    case SourceKind::queue:
      return "queue";
    case SourceKind::sweeps:
      return "sweeps";
    case SourceKind::proposer:
      return "proposer";
  }
  return "?";
}

const char* to_string(SandboxMode mode) {
  switch (mode) {
    case SandboxMode::automatic:
      return "auto";
    case SandboxMode::strict:
      return "strict";
    case SandboxMode::off:
      return "off";
  }
  return "?";
}

const char* to_string(ExecutorKind kind) {
  return kind == ExecutorKind::slurm ? "slurm" : "local";
}

nlohmann::json to_json(const Config& config) {
  using nlohmann::json;
  json guards = json::array();
  for (const auto& guard : config.guards) {
    guards.push_back(
        {{"name", guard.name}, {"direction", decide::to_string(guard.direction)}, {"tolerance", guard.tolerance}});
  }
  json gates = json::array();
  for (const auto& gate : config.gates) {
    gates.push_back({{"name", gate.name}, {"command", gate.command}, {"timeout", format_duration(gate.timeout)}});
    // Only when set, so a journal written before the key existed sees the same config.
    if (gate.after_benchmark) gates.back()["after"] = "benchmark";
  }
  // The file's path is left out on purpose: the journal compares this object to detect a
  // change of config, and the same file reached by another path is not one.
  json out{
      {"session", config.session},
      {"goal", config.goal},
      {"benchmark",
       {{"command", config.benchmark.command},
        {"timeout", format_duration(config.benchmark.timeout)},
        {"warmup", config.benchmark.warmup},
        {"pause", format_duration(config.benchmark.pause)},
        {"cpus", config.benchmark.cpus}}},
      {"build", {{"command", config.build.command}, {"timeout", format_duration(config.build.timeout)}}},
      {"metric",
       {{"name", config.metric.name},
        {"direction", decide::to_string(config.metric.direction)},
        {"unit", config.metric.unit}}},
      {"guards", guards},
      {"gates", gates},
      {"protected", config.protected_paths},
      {"scope", config.scope},
      {"confirm", confirms_json(config.confirms)},
      {"decision",
       {{"method", decide::to_string(config.decision.method)},
        {"beta", config.decision.beta},
        {"sprt_clip", config.decision.sprt_clip},
        {"min_effect", config.decision.min_effect},
        {"alpha", config.decision.alpha},
        {"max_pairs", config.decision.max_pairs},
        {"looks", config.decision.looks},
        {"confirmation_pairs", config.decision.confirmation_pairs},
        {"confirmation_alpha", config.decision.confirmation_alpha}}},
      {"sources", sources_json(config.sources)},
      {"limits",
       {{"max_experiments", config.limits.max_experiments},
        {"max_duration", format_duration(config.limits.max_duration)},
        {"max_consecutive_failures", config.limits.max_consecutive_failures},
        {"target", config.limits.target ? json(*config.limits.target) : json(nullptr)},
        {"retry_interrupted", config.limits.retry_interrupted},
        {"max_log_mb", config.limits.max_log_mb},
        {"plateau", config.limits.plateau},
        {"on_plateau", config.limits.plateau_stop ? "stop" : "next_source"}}},
      {"calibration",
       {{"pairs", config.calibration.pairs},
        {"on_start", config.calibration.on_start},
        {"level_change", config.calibration.level_change},
        {"noise_band", config.calibration.noise_band}}},
      {"verify", {{"pairs", config.verify_pairs}}},
      {"sandbox",
       {{"mode", to_string(config.sandbox.mode)},
        {"engine", config.sandbox.force_bwrap ? "bwrap" : "auto"},
        {"writable", config.sandbox.writable}}},
      {"hooks",
       {{"before",
         {{"command", config.hooks.before.command}, {"timeout", format_duration(config.hooks.before.timeout)}}},
        {"after",
         {{"command", config.hooks.after.command}, {"timeout", format_duration(config.hooks.after.timeout)}}}}},
  };
  // Written only when not the default: a journal written before the key existed then sees the
  // same config, and no new segment starts on upgrade.
  if (config.metric.repeat == Repeat::last) out["metric"]["repeat"] = "last";
  if (!config.shell.empty()) out["shell"] = config.shell;
  if (!config.harness.empty()) {
    json harness = json::array();
    for (const auto& h : config.harness) harness.push_back(h.path);
    out["harness"] = harness;
  }
  const Executor& x = config.executor;
  if (x.kind != ExecutorKind::local || x.slots != 1) {
    out["executor"] = {{"kind", to_string(x.kind)}, {"slots", x.slots}, {"background", x.pause_background ? "pause" : "run"}};
    if (x.kind == ExecutorKind::slurm) {
      out["executor"]["partition"] = x.partition;
      out["executor"]["sbatch_args"] = x.sbatch_args;
      out["executor"]["workdir"] = x.workdir;
    }
  }
  if (!config.reference.commit.empty()) out["reference"] = {{"commit", config.reference.commit}};
  if (!config.reference.command.empty()) out["reference"] = {{"command", config.reference.command}};
  return out;
}

}  // namespace ar::config
