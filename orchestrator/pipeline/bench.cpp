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
// Which rejected METRIC lines are one problem: the name part as printed, and the value with each
// run of digits and dots as '#'. The same bad line of a script usually prints another number every
// run ("METRIC wall=10.8ms", then "METRIC wall=10.4ms"); warning about each would be per run again.
std::string rejected_line_key(const std::string& text) {
  std::size_t eq = text.find('=');
  if (eq == std::string::npos) return text;
  std::string key = text.substr(0, eq + 1);
  for (std::size_t i = eq + 1; i < text.size(); ++i) {
    bool numeric = (text[i] >= '0' && text[i] <= '9') || text[i] == '.';
    if (!numeric) {
      key.push_back(text[i]);
    } else if (key.back() != '#') {
      key.push_back('#');
    }
  }
  return key;
}
}  // namespace

const char* Bench::who(int side) const {
  if (!m_command[side].empty()) return "reference command";
  return side == 0 ? "base (best commit)" : "candidate";
}

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

exec::Command Bench::command_for(int side, const std::string& label) const {
  const config::Config& cfg = m_ctx.cfg();
  const std::string& command = m_command[side].empty() ? cfg.benchmark.command : m_command[side];
  exec::Command c = exec::make_command(exec::Kind::benchmark, label, m_id, side, command, m_ctx.workspace().cwd(side),
                                       cfg.benchmark.timeout);
  c.scan_metrics = true;
  c.cpus = m_ctx.pinning.benchmark;
  return c;
}

std::variant<std::map<std::string, double>, Outcome> Bench::run_once(int side, const std::string& label) {
  m_ctx.workspace().ran_command(side);
  exec::CommandResult r = m_ctx.executor.run(command_for(side, label));
  return judge(side, label, r);
}

std::variant<std::map<std::string, double>, Outcome> Bench::judge(int side, const std::string& label,
                                                                  const exec::CommandResult& r) {
  const config::Config& cfg = m_ctx.cfg();
  m_seconds += r.process.seconds;
  m_last = journal::RunInfo{
      "", 0, side, r.process.exit_code, r.process.seconds, r.process.cpu_seconds, r.process.cpu, r.node, r.job};
  if (!r.job.empty() && (m_jobs.empty() || m_jobs.back().id != r.job)) m_jobs.push_back({r.job, r.node});
  // First, so that every ending (crash, timeout, tampering, interrupt) keeps them in the record.
  for (const auto& rej : r.rejected) {
    // Once per experiment per distinct line: the same bad line printed by every run is one problem.
    if (!m_seen_rejected.insert(rejected_line_key(rej.text)).second) continue;
    std::string w =
        fmt::format("{} output line {}: rejected METRIC line \"{}\": {}", label, rej.line, rej.text, rej.why);
    if (m_warnings.size() < 20) m_warnings.push_back(w);
    m_ctx.session.progress().note(m_id > 0 ? fmt::format("warning: experiment {}: {}", m_id, w) : "warning: " + w);
  }
  if (r.interrupted()) return Outcome{Status::interrupted, ""};
  if (!r.lost.empty()) {
    return Outcome{r.timed_out() ? Status::timeout : Status::crash,
                   fmt::format("benchmark lost on the {} ({}): {}", who(side), label, r.lost)};
  }
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
  // A reference command (verify's, config `reference.command`) is another program: it owes only
  // the primary metric; the guards and confirm metrics it does not print are left out of the
  // comparison.
  const bool owes_all = m_command[side].empty();
  for (const auto& g : cfg.guards) {
    if (owes_all && r.metrics.count(g.name) == 0) {
      return Outcome{Status::crash,
                     fmt::format("benchmark printed no METRIC {} (a guard) on the {} ({})", g.name, who(side), label)};
    }
  }
  for (const auto& cf : cfg.confirms) {
    if (owes_all && r.metrics.count(cf.name) == 0) {
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

StageResult Bench::run_batch(const std::vector<Planned>& plan, const std::function<void(const Planned&)>& before,
                             const std::function<bool(const Planned&, std::map<std::string, double>&)>& after) {
  if (plan.empty()) return std::nullopt;
  std::vector<exec::Command> commands;
  for (const Planned& p : plan) {
    commands.push_back(command_for(p.side, p.label));
    m_ctx.workspace().ran_command(p.side);
  }
  StageResult end;
  std::size_t taken = 0;
  bool stopped = false;
  before(plan[0]);
  m_ctx.executor.run_batch(commands, [&](std::size_t i, exec::CommandResult& r) {
    taken = i + 1;
    auto got = judge(plan[i].side, plan[i].label, r);
    if (auto* o = std::get_if<Outcome>(&got)) {
      end = *o;
      return false;
    }
    if (!after(plan[i], std::get<0>(got))) {
      stopped = true;
      return false;
    }
    if (i + 1 < plan.size()) before(plan[i + 1]);
    return true;
  });
  if (!end && !stopped && taken < plan.size()) {
    // An executor hands over a failed result rather than fewer; this is a bug, not a verdict.
    end = Outcome{Status::crash, fmt::format("the executor returned no result for {}", plan[taken].label)};
  }
  return end;
}

StageResult Bench::run_pairs(const std::string& block, int max_pairs, std::uint64_t seed, bool warmup,
                             const std::function<bool(int, const Samples&)>& decided, Samples& samples, int& pairs,
                             const std::function<int(int)>& next_look) {
  const config::Config& cfg = m_ctx.cfg();
  session::Workspace& ws = m_ctx.workspace();
  for (int side = 0; side < 2; ++side) ws.snapshot(side, cfg.protected_paths);
  if (warmup && cfg.benchmark.warmup > 0) {
    std::vector<Planned> plan;
    for (int w = 0; w < cfg.benchmark.warmup; ++w) {
      for (int side = 0; side < 2; ++side)
        plan.push_back({0, side, side == 0, fmt::format("warmup {} {}", w + 1, side_name(side))});
    }
    // With after-benchmark gates, the first warm-up round is a batch of its own: the gates run
    // right after it, while its output files exist, and before the other rounds.
    const std::size_t first_round = m_after ? 2 : plan.size();
    int round = 0;
    auto stage = [&](const Planned& p) {
      if (p.first) m_ctx.stage(m_id, m_title, fmt::format("warmup {}/{}", ++round, cfg.benchmark.warmup));
    };
    auto keep_going = [](const Planned&, std::map<std::string, double>&) { return true; };
    std::vector<Planned> head(plan.begin(), plan.begin() + static_cast<std::ptrdiff_t>(first_round));
    std::vector<Planned> rest(plan.begin() + static_cast<std::ptrdiff_t>(first_round), plan.end());
    if (StageResult end = run_batch(head, stage, keep_going)) return end;
    if (m_after) {
      if (StageResult end = run_after()) return end;
    }
    if (StageResult end = run_batch(rest, stage, keep_going)) return end;
  }
  if (warmup && cfg.benchmark.warmup == 0 && m_after) {
    // No warm-up to follow: one candidate run of its own, unrecorded, for the after-benchmark work.
    m_ctx.stage(m_id, m_title, "benchmark run for the gates");
    std::vector<Planned> one{{0, 1, true, "run before the gates candidate"}};
    if (StageResult end = run_batch(
            one, [](const Planned&) {}, [](const Planned&, std::map<std::string, double>&) { return true; }))
      return end;
    if (StageResult end = run_after()) return end;
  }
  // The state file learns the block once; the pairs themselves write nothing (see the header).
  m_ctx.stage(m_id, m_title, warmup ? "measure" : "confirmation block");
  const OrchestratorPin pin(m_ctx.pinning);
  pairs = 0;
  bool done = false;
  for (int k = 0; k < max_pairs && !done;) {
    const int until = std::min(max_pairs, next_look ? std::max(k + 1, next_look(k)) : k + 1);
    std::vector<Planned> plan;
    for (int j = k + 1; j <= until; ++j) {
      bool first = true;
      for (int side : decide::pair_order(seed, j)) {
        plan.push_back({j, side, first, fmt::format("pair {} {}", j, side_name(side))});
        first = false;
      }
    }
    std::map<std::string, double> got[2];
    StageResult end = run_batch(
        plan,
        [&](const Planned& p) {
          if (p.first) m_ctx.session.progress().stage(m_id, m_title, fmt::format("pair {}/{}", p.pair, max_pairs));
        },
        [&](const Planned& p, std::map<std::string, double>& metrics) {
          got[p.side] = std::move(metrics);
          m_last.block = block;
          m_last.pair = p.pair;
          m_runs.push_back(m_last);
          if (p.first) {
            m_ctx.faults.point("pair");
            return true;
          }
          for (int side = 0; side < 2; ++side) {
            for (const auto& [name, value] : got[side]) samples[static_cast<size_t>(side)][name].push_back(value);
          }
          pairs = p.pair;
          done = decided(p.pair, samples);
          return !done;
        });
    if (end) return end;
    k = until;
  }
  // What the quick checks cannot see: any tracked file of the candidate (the base is checked
  // before a keep, see check_base()).
  return tampered(1, "the benchmark", ws.check(1, cfg.protected_paths));
}

StageResult Bench::run_after() {
  std::function<StageResult()> after = std::move(m_after);
  m_after = nullptr;  // once per experiment, not again in a confirmation block
  // A change the benchmark run made is the benchmark's, not the gate's.
  if (StageResult t = tampered(1, "the benchmark", m_ctx.workspace().check(1, m_ctx.cfg().protected_paths))) return t;
  return after();
}

StageResult Bench::check_base() {
  return tampered(0, "the benchmark", m_ctx.workspace().check(0, m_ctx.cfg().protected_paths));
}

}  // namespace ar::pipeline
