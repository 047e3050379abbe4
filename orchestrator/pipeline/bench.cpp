#include "pipeline/bench.hpp"

#include "decide/schedule.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace ar::pipeline {

using journal::Status;

namespace {
const char* side_name(int side) {
  return side == 0 ? "base" : "candidate";
}
const char* who(int side) {
  return side == 0 ? "base (best commit)" : "candidate";
}
}  // namespace

namespace {

// While pairs run, the orchestrator waits on the CPUs the benchmark does not use (when there are
// any), so its own wake-ups do not land on a benchmark's CPU; afterwards it may run anywhere again.
class OrchestratorPin {
 public:
  explicit OrchestratorPin(const util::Pinning& p) {
    if (p.orchestrator.empty()) return;
    m_before = util::allowed_cpus();
    m_moved = !m_before.empty() && util::set_affinity(p.orchestrator);
  }
  ~OrchestratorPin() {
    if (m_moved) (void)util::set_affinity(m_before);
  }
  OrchestratorPin(const OrchestratorPin&) = delete;
  OrchestratorPin& operator=(const OrchestratorPin&) = delete;

 private:
  std::vector<int> m_before;
  bool m_moved = false;
};

}  // namespace

std::uint64_t order_seed() {
  std::random_device rd;
  const std::uint64_t seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return seed & ((std::uint64_t{1} << 53) - 1);
}

StageResult Bench::tampered(int side, const std::string& label, const std::optional<std::string>& path) {
  if (!path) return std::nullopt;
  m_ctx.workspace().mark_tampered(side);
  return Outcome{Status::rejected, fmt::format("tampering: {} changed {} in the {} worktree while it ran", label, *path,
                                               side_name(side))};
}

std::variant<std::map<std::string, double>, Outcome> Bench::run_once(int side, const std::string& label) {
  const config::Config& cfg = m_ctx.cfg();
  const std::string& command = m_command[side].empty() ? cfg.benchmark.command : m_command[side];
  exec::Command c = exec::make_command(exec::Kind::benchmark, label, m_id, side, command,
                                       m_ctx.workspace().cwd(side), cfg.benchmark.timeout);
  c.scan_metrics = true;
  c.cpus = m_ctx.pinning.benchmark;
  m_ctx.workspace().ran_command(side);
  exec::CommandResult r = m_ctx.executor.run(c);
  m_seconds += r.process.seconds;
  m_last = journal::RunInfo{"", 0, side, r.process.exit_code, r.process.seconds, r.process.cpu_seconds, r.process.cpu};
  // First, so that every ending (crash, timeout, tampering, interrupt) keeps them in the record.
  for (const auto& rej : r.rejected) {
    // Once per experiment per distinct line: the same bad line printed by every run is one problem.
    if (!m_seen_rejected.insert(rej.text).second) continue;
    std::string w =
        fmt::format("{} output line {}: rejected METRIC line \"{}\": {}", label, rej.line, rej.text, rej.why);
    if (m_warnings.size() < 20) m_warnings.push_back(w);
    m_ctx.session.progress().note(m_id > 0 ? fmt::format("warning: experiment {}: {}", m_id, w) : "warning: " + w);
  }
  if (r.interrupted()) return Outcome{Status::interrupted, ""};
  if (auto t = tampered(side, "the benchmark (" + label + ")", m_ctx.workspace().quick_check(side))) return *t;
  if (r.timed_out())
    return Outcome{Status::timeout, fmt::format("benchmark {} on the {}", r.process.describe(), who(side))};
  if (!r.ok()) {
    m_tail = r.process.tail;
    return Outcome{Status::crash, fmt::format("benchmark {} on the {} ({})", r.process.describe(), who(side), label)};
  }
  const std::string& primary = cfg.metric.name;
  if (r.metrics.count(primary) == 0) {
    m_tail = r.process.tail;
    return Outcome{Status::crash,
                   fmt::format("benchmark printed no METRIC {} on the {} ({})", primary, who(side), label)};
  }
  for (const auto& g : cfg.guards) {
    if (r.metrics.count(g.name) == 0) {
      return Outcome{Status::crash,
                     fmt::format("benchmark printed no METRIC {} (a guard) on the {} ({})", g.name, who(side), label)};
    }
  }
  for (const auto& cf : cfg.confirms) {
    if (r.metrics.count(cf.name) == 0) {
      return Outcome{Status::crash, fmt::format("benchmark printed no METRIC {} (a confirm metric) on the {} ({})",
                                                cf.name, who(side), label)};
    }
  }
  for (const auto& [name, value] : r.metrics) {
    bool compared =
        name == primary ||
        std::any_of(cfg.guards.begin(), cfg.guards.end(), [&](const auto& g) { return g.name == name; }) ||
        std::any_of(cfg.confirms.begin(), cfg.confirms.end(), [&](const auto& x) { return x.name == name; });
    if (value <= 0 && compared) {
      return Outcome{Status::crash,
                     fmt::format("METRIC {}={} on the {}: compared metrics must be positive", name, value, who(side))};
    }
  }
  return r.metrics;
}

StageResult Bench::run_pairs(const std::string& block, int max_pairs, std::uint64_t seed, bool warmup,
                             const std::function<bool(int, const Samples&)>& decided, Samples& samples, int& pairs) {
  const config::Config& cfg = m_ctx.cfg();
  session::Workspace& ws = m_ctx.workspace();
  for (int side = 0; side < 2; ++side) ws.snapshot(side, cfg.protected_paths);
  for (int w = 0; warmup && w < cfg.benchmark.warmup; ++w) {
    m_ctx.stage(m_id, m_title, fmt::format("warmup {}/{}", w + 1, cfg.benchmark.warmup));
    for (int side = 0; side < 2; ++side) {
      auto got = run_once(side, fmt::format("warmup {} {}", w + 1, side_name(side)));
      if (auto* end = std::get_if<Outcome>(&got)) return *end;
    }
  }
  // The state file learns the block once; the pairs themselves write nothing (see the header).
  m_ctx.stage(m_id, m_title, warmup ? "measure" : "confirmation block");
  const OrchestratorPin pin(m_ctx.pinning);
  pairs = 0;
  for (int k = 1; k <= max_pairs; ++k) {
    m_ctx.session.progress().stage(m_id, m_title, fmt::format("pair {}/{}", k, max_pairs));
    std::map<std::string, double> got[2];
    bool first = true;
    for (int side : decide::pair_order(seed, k)) {
      auto r = run_once(side, fmt::format("pair {} {}", k, side_name(side)));
      if (auto* end = std::get_if<Outcome>(&r)) return *end;
      got[side] = std::move(std::get<0>(r));
      m_last.block = block;
      m_last.pair = k;
      m_runs.push_back(m_last);
      if (first) m_ctx.faults.point("pair");
      first = false;
    }
    for (int side = 0; side < 2; ++side) {
      for (const auto& [name, value] : got[side]) samples[static_cast<size_t>(side)][name].push_back(value);
    }
    pairs = k;
    if (decided(k, samples)) break;
  }
  // What the quick checks cannot see: any tracked file of the candidate (the base is checked
  // before a keep, see check_base()).
  return tampered(1, "the benchmark", ws.check(1, cfg.protected_paths));
}

StageResult Bench::check_base() {
  return tampered(0, "the benchmark", m_ctx.workspace().check(0, m_ctx.cfg().protected_paths));
}

}  // namespace ar::pipeline
