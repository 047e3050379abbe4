#include "quality/simulation.hpp"

#include "decide/schedule.hpp"
#include "quality/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <fmt/format.h>

namespace ar::quality {
namespace {

// SplitMix64: small, fast and fully specified, so a seed means the same runs everywhere.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr double k_pi = 3.14159265358979323846;

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t state = a ^ (b * 0xD6E8FEB86659FD93ull);
  return splitmix64(state);
}

} // namespace

std::vector<NoiseModel> standard_noise_models() {
  std::vector<NoiseModel> out;
  NoiseModel clean;
  clean.name = "CV 1%, iid";
  clean.cv = 0.01;
  out.push_back(clean);
  for (double cv : {0.01, 0.03, 0.10}) {
    NoiseModel m;
    m.name = fmt::format("CV {:g}%, outliers, drift", cv * 100);
    m.cv = cv;
    m.outlier_rate = 0.05;
    m.drift = 0.002;
    out.push_back(m);
  }
  NoiseModel quiet;
  quiet.name = "CV 0.3%, iid";
  quiet.cv = 0.003;
  out.push_back(quiet);
  // What real machines showed (issue 9): runs correlated with their neighbours, the second run of
  // a pair faster, streaks of interference on one side, load steps.
  NoiseModel ar;
  ar.name = "CV 1%, AR(1) 0.5, order 1%";
  ar.cv = 0.01;
  ar.ar1 = 0.5;
  ar.order_effect = 0.01;
  out.push_back(ar);
  NoiseModel streaks;
  streaks.name = "CV 1%, streaks, load steps";
  streaks.cv = 0.01;
  streaks.streak_rate = 0.05;
  streaks.step_rate = 0.01;
  out.push_back(streaks);
  for (double cv : {0.003, 0.03, 0.10}) {
    NoiseModel m;
    m.name = fmt::format("CV {:g}%, all of it", cv * 100);
    m.cv = cv;
    m.outlier_rate = 0.05;
    m.drift = 0.002;
    m.ar1 = 0.5;
    m.order_effect = 0.01;
    m.streak_rate = 0.05;
    m.step_rate = 0.01;
    out.push_back(m);
  }
  return out;
}

std::vector<double> standard_effects() { return {0.05, 0.02, 0.0, -0.01, -0.02, -0.05, -0.10}; }

std::vector<RuleSpec> standard_rules() {
  std::vector<RuleSpec> out;
  RuleSpec ours;
  ours.name = "ours (two blocks)";
  out.push_back(ours);

  RuleSpec first = ours;
  first.name = "ours, first block only";
  first.rule.confirmation_pairs = 0;
  out.push_back(first);

  RuleSpec sprt;
  sprt.name = "sprt";
  sprt.rule.method = decide::Method::sprt;
  sprt.rule.confirmation_pairs = 0;
  out.push_back(sprt);

  RuleSpec fixed;
  fixed.name = fmt::format("fixed {} pairs", fixed.rule.max_pairs);
  fixed.rule.method = decide::Method::fixed;
  fixed.rule.confirmation_pairs = 0;
  out.push_back(fixed);

  RuleSpec single;
  single.name = "1 run per side";
  single.kind = RuleKind::single_run;
  out.push_back(single);

  RuleSpec mw;
  mw.kind = RuleKind::mann_whitney;
  mw.name = fmt::format("Mann-Whitney {0} vs {0}", mw.fixed_pairs);
  out.push_back(mw);
  return out;
}

double Cell::keep_rate() const { return trials > 0 ? static_cast<double>(kept) / trials : 0; }

double Cell::mean_runs() const { return trials > 0 ? runs_sum / trials : 0; }

double Cell::coverage() const {
  return with_interval > 0 ? static_cast<double>(covered) / with_interval : 1;
}

double Cell::runs_standard_error() const {
  if (trials < 2) return 0;
  const double n = trials;
  const double var = (runs_sum_sq - runs_sum * runs_sum / n) / (n - 1);
  return std::sqrt(std::max(var, 0.0) / n);
}

RunSequence::RunSequence(const NoiseModel& noise, double effect, std::uint64_t trial_seed,
                         bool drift_up)
    : m_noise(noise), m_effect(effect), m_drift_up(drift_up), m_state(trial_seed) {}

double RunSequence::next_uniform() {
  // 53 random bits, shifted off zero so a logarithm of it is finite.
  return (static_cast<double>(splitmix64(m_state) >> 11) + 0.5) * 0x1.0p-53;
}

double RunSequence::next_normal() {
  // Box-Muller, one of the pair: simple and exactly reproducible.
  const double u1 = next_uniform();
  const double u2 = next_uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * k_pi * u2);
}

void RunSequence::extend() {
  // Every slot draws the same count of numbers in the same order, whatever the model's
  // parameters, so the runs never depend on which rule asks or in which order.
  const double sigma = std::sqrt(std::log1p(m_noise.cv * m_noise.cv));
  const int slot = static_cast<int>(m_slots.size());
  const double z = next_normal();
  const double coin = next_uniform();
  const double slow = next_uniform();
  const double step_coin = next_uniform();
  const double step_size = next_uniform();
  const double streak_coin = next_uniform();
  const double streak_len = next_uniform();
  const double streak_side = next_uniform();
  const double streak_size = next_uniform();

  const double rho = m_noise.ar1;
  m_e = slot == 0 ? sigma * z : rho * m_e + std::sqrt(1 - rho * rho) * sigma * z;
  Slot s;
  s.factor = std::exp(m_e - sigma * sigma / 2);
  if (coin < m_noise.outlier_rate)
    s.factor *= 1 + m_noise.outlier_min + (m_noise.outlier_max - m_noise.outlier_min) * slow;
  if (step_coin < m_noise.step_rate)
    m_load = m_load > 1 ? 1 : 1 + m_noise.step_min + (m_noise.step_max - m_noise.step_min) * step_size;
  s.factor *= m_load;
  if (slot % 2 == 0) {  // streaks start and end with pairs; the odd slot shares its pair's state
    if (m_streak_left > 0) {
      --m_streak_left;
    } else if (streak_coin < m_noise.streak_rate) {
      const int span = m_noise.streak_max_pairs - m_noise.streak_min_pairs + 1;
      m_streak_left = m_noise.streak_min_pairs - 1 + std::min(span - 1, static_cast<int>(streak_len * span));
      m_streak_side = streak_side < 0.5 ? 0 : 1;
      m_streak = 1 + m_noise.cv * (1 + 2 * streak_size);
    } else {
      m_streak_side = -1;
    }
  }
  s.streak_side = m_streak_side;
  s.streak = m_streak;
  m_slots.push_back(s);
}

double RunSequence::value(int slot, bool candidate) {
  while (static_cast<int>(m_slots.size()) <= slot) extend();
  const Slot& s = m_slots[static_cast<std::size_t>(slot)];
  const double drift = 1 + (m_drift_up ? 1 : -1) * m_noise.drift * slot;
  const double level = candidate ? 1 + m_effect : 1;
  const int side = candidate ? 1 : 0;
  const double streak = s.streak_side == side ? s.streak : 1;
  const double order = slot % 2 == 1 ? 1 - m_noise.order_effect : 1;
  return 100 * level * s.factor * drift * streak * order;
}

namespace {

// Pair k (from 1) of a block starting at slot `first_slot`, in the order pair_order draws.
void pair(RunSequence& runs, int first_slot, std::uint64_t order_seed, int k, double& base, double& candidate) {
  const int slot = first_slot + 2 * (k - 1);
  const bool base_first = decide::pair_order(order_seed, k)[0] == 0;
  base = runs.value(base_first ? slot : slot + 1, false);
  candidate = runs.value(base_first ? slot + 1 : slot, true);
}

decide::Prior calibrate(RunSequence& calibration, int pairs, std::uint64_t order_seed) {
  if (pairs <= 0) return {};
  std::vector<double> d;
  for (int k = 1; k <= pairs; ++k) {
    double a = 0;
    double b = 0;
    pair(calibration, 0, order_seed, k, a, b);
    d.push_back(std::log(b / a));
  }
  return decide::prior_from(d);
}

void take_interval(const decide::Effect& e, TrialResult& out) {
  out.has_interval = true;
  out.ci_low = e.ci_low;
  out.ci_high = e.ci_high;
}

}  // namespace

TrialResult run_trial(RunSequence& runs, RunSequence& calibration, const RuleSpec& spec,
                      std::uint64_t order_seed, double effect) {
  (void)effect;
  TrialResult out;
  switch (spec.kind) {
  case RuleKind::decide: {
    const decide::Rule& rule = spec.rule;
    const decide::Prior prior = calibrate(calibration, spec.calibration_pairs, mix(order_seed, 1));
    const std::uint64_t first_seed = mix(order_seed, 2);
    decide::Paired samples;
    decide::Verdict v;
    int k = 0;
    for (k = 1; k <= rule.max_pairs; ++k) {
      double a = 0;
      double b = 0;
      pair(runs, 0, first_seed, k, a, b);
      samples.base.push_back(a);
      samples.candidate.push_back(b);
      if (!decide::is_look(rule, k) && k < rule.max_pairs) continue;
      v = decide::evaluate(samples, decide::Direction::lower, {}, {}, rule, prior);
      if (v.outcome != decide::Outcome::undecided) break;
    }
    out.runs = 2 * std::min(k, rule.max_pairs);
    if (v.outcome == decide::Outcome::keep && rule.confirmation_pairs > 0) {
      // The pause, then a fresh block with a fresh order.
      const int start = out.runs + runs.gap_slots();
      const std::uint64_t second_seed = mix(order_seed, 3);
      decide::Paired block;
      const std::map<std::string, decide::Paired> none;
      const decide::Verdict first = v;
      int planned = first.confirmation_pairs;
      for (int j = 1; j <= planned; ++j) {
        double a = 0;
        double b = 0;
        pair(runs, start, second_seed, j, a, b);
        block.base.push_back(a);
        block.candidate.push_back(b);
        out.runs += 2;
        if (j < planned) continue;
        v = decide::evaluate_confirmation(first, {block, none, none}, decide::Direction::lower, {}, {}, rule, prior);
        if (v.outcome == decide::Outcome::undecided) planned = v.confirmation_pairs;
      }
    }
    out.outcome = v.outcome;
    take_interval(v.primary, out);
    return out;
  }
  case RuleKind::single_run: {
    double a = 0;
    double b = 0;
    pair(runs, 0, order_seed, 1, a, b);
    out.runs = 2;
    out.outcome = b < a ? decide::Outcome::keep : decide::Outcome::discard;
    return out;
  }
  case RuleKind::mann_whitney: {
    std::vector<double> base;
    std::vector<double> candidate;
    for (int k = 1; k <= spec.fixed_pairs; ++k) {
      double a = 0;
      double b = 0;
      pair(runs, 0, order_seed, k, a, b);
      base.push_back(a);
      candidate.push_back(b);
    }
    out.runs = 2 * spec.fixed_pairs;
    const MannWhitney test = mann_whitney(candidate, base);
    out.outcome = test.p_less < spec.alpha ? decide::Outcome::keep : decide::Outcome::discard;
    return out;
  }
  }
  return out;
}

Cell simulate(const NoiseModel& noise, int noise_index, double effect, int effect_index,
              const RuleSpec& rule, int trials, std::uint64_t seed) {
  Cell cell;
  const std::uint64_t cell_seed =
      mix(mix(seed, static_cast<std::uint64_t>(noise_index) + 1),
          static_cast<std::uint64_t>(effect_index) + 1);
  for (int t = 0; t < trials; ++t) {
    const std::uint64_t trial_seed = mix(cell_seed, static_cast<std::uint64_t>(t));
    RunSequence runs(noise, effect, trial_seed, t % 2 == 0);
    RunSequence calibration(noise, 0, mix(trial_seed, 0xCA1B), t % 2 == 0);
    const TrialResult r = run_trial(runs, calibration, rule, mix(trial_seed, 0x0DE5), effect);
    ++cell.trials;
    switch (r.outcome) {
    case decide::Outcome::keep: ++cell.kept; break;
    case decide::Outcome::discard: ++cell.discarded; break;
    default: ++cell.inconclusive; break;
    }
    if (r.has_interval) {
      ++cell.with_interval;
      const bool covers = r.ci_low <= effect && effect <= r.ci_high;
      if (covers) ++cell.covered;
      if (covers && r.outcome == decide::Outcome::keep) ++cell.kept_covered;
    }
    cell.runs_sum += r.runs;
    cell.runs_sum_sq += static_cast<double>(r.runs) * r.runs;
  }
  return cell;
}

std::vector<Target> standard_targets() {
  using K = Target::Kind;
  std::vector<Target> out = {
      {"no-op kept at most 1%", 0.0, K::keep_at_most, 0.01, true},
      {"+2% regression kept at most 0.1%", 0.02, K::keep_at_most, 0.001, true},
      {"-2% improvement kept at least 85%", -0.02, K::keep_at_least, 0.85, false},
      {"-5% improvement kept at least 97%", -0.05, K::keep_at_least, 0.97, false},
      {"no-op: at most 10 runs on average", 0.0, K::runs_at_most, 10, false},
      {"-10% improvement: at most 10 runs on average", -0.10, K::runs_at_most, 10, false},
  };
  for (double e : standard_effects()) {
    out.push_back({fmt::format("95% CI covers the true effect {} at least 93%", format_effect(e)), e,
                   K::coverage_at_least, 0.93, true});
  }
  return out;
}

TargetCheck check_target(const Target& target, const Cell& cell) {
  TargetCheck c;
  c.target = target;
  const double n = std::max(cell.trials, 1);
  switch (target.kind) {
  case Target::Kind::keep_at_most:
  case Target::Kind::keep_at_least: {
    c.observed = cell.keep_rate();
    // The standard error of a rate at the bound: how far an exactly-on-target rule strays.
    c.allowance = 3 * std::sqrt(target.bound * (1 - target.bound) / n);
    if (target.kind == Target::Kind::keep_at_most) {
      c.met = c.observed <= target.bound;
      c.within_error = c.observed <= target.bound + c.allowance;
    } else {
      c.met = c.observed >= target.bound;
      c.within_error = c.observed >= target.bound - c.allowance;
    }
    break;
  }
  case Target::Kind::coverage_at_least: {
    c.observed = cell.coverage();
    const double m = std::max(cell.with_interval, 1);
    c.allowance = 3 * std::sqrt(target.bound * (1 - target.bound) / m);
    c.met = c.observed >= target.bound;
    c.within_error = c.observed >= target.bound - c.allowance;
    break;
  }
  case Target::Kind::runs_at_most:
    c.observed = cell.mean_runs();
    c.allowance = 3 * cell.runs_standard_error();
    c.met = c.observed <= target.bound;
    c.within_error = c.observed <= target.bound + c.allowance;
    break;
  }
  return c;
}

Table run_table(int trials, std::uint64_t seed, std::size_t rules) {
  Table t;
  t.noises = standard_noise_models();
  t.rules = standard_rules();
  if (rules > 0 && rules < t.rules.size()) t.rules.resize(rules);
  t.effects = standard_effects();
  t.cells.resize(t.noises.size());
  for (std::size_t n = 0; n < t.noises.size(); ++n) {
    t.cells[n].resize(t.rules.size());
    for (std::size_t r = 0; r < t.rules.size(); ++r) {
      for (std::size_t e = 0; e < t.effects.size(); ++e) {
        t.cells[n][r].push_back(simulate(t.noises[n], static_cast<int>(n), t.effects[e],
                                         static_cast<int>(e), t.rules[r], trials, seed));
      }
    }
  }
  return t;
}

std::string format_effect(double effect) {
  if (effect == 0) return "0";
  return fmt::format("{:+g}%", std::round(effect * 1000) / 10);
}

namespace {

std::string percent(double rate) { return fmt::format("{:.1f}%", rate * 100); }

std::string coverage_text(const Cell& c) {
  return c.with_interval > 0 ? fmt::format("{:.0f}%", c.coverage() * 100) : "–";
}

std::string cell_text(const Cell& c) {
  return fmt::format("{} · {:.1f} · {}", percent(c.keep_rate()), c.mean_runs(), coverage_text(c));
}

} // namespace

std::string markdown_table(const Table& t) {
  std::string out = "| noise | rule |";
  for (double e : t.effects) out += " " + format_effect(e) + " |";
  out += "\n|---|---|";
  for (std::size_t e = 0; e < t.effects.size(); ++e) out += "---:|";
  out += "\n";
  for (std::size_t n = 0; n < t.noises.size(); ++n) {
    for (std::size_t r = 0; r < t.rules.size(); ++r) {
      out += fmt::format("| {} | {} |", t.noises[n].name, t.rules[r].name);
      for (const Cell& c : t.cells[n][r]) out += " " + cell_text(c) + " |";
      out += "\n";
    }
  }
  return out;
}

std::string markdown_outcomes(const Table& t, std::size_t rule) {
  std::string out = "| noise |";
  for (double e : t.effects) out += " " + format_effect(e) + " |";
  out += "\n|---|";
  for (std::size_t e = 0; e < t.effects.size(); ++e) out += "---:|";
  out += "\n";
  for (std::size_t n = 0; n < t.noises.size(); ++n) {
    out += fmt::format("| {} |", t.noises[n].name);
    for (const Cell& c : t.cells[n][rule]) {
      const double trials = std::max(c.trials, 1);
      out += fmt::format(" {:.0f} / {:.0f} / {:.0f} |", 100.0 * c.kept / trials,
                         100.0 * c.discarded / trials, 100.0 * c.inconclusive / trials);
    }
    out += "\n";
  }
  return out;
}

std::string text_table(const Table& t) {
  std::size_t noise_w = 5;
  std::size_t rule_w = 4;
  for (const auto& n : t.noises) noise_w = std::max(noise_w, n.name.size());
  for (const auto& r : t.rules) rule_w = std::max(rule_w, r.name.size());
  const int cell_w = 19;
  std::string out = fmt::format("{:<{}}  {:<{}}", "noise", noise_w, "rule", rule_w);
  for (double e : t.effects) out += fmt::format("  {:>{}}", format_effect(e), cell_w);
  out += "\n";
  for (std::size_t n = 0; n < t.noises.size(); ++n) {
    for (std::size_t r = 0; r < t.rules.size(); ++r) {
      out += fmt::format("{:<{}}  {:<{}}", t.noises[n].name, noise_w, t.rules[r].name, rule_w);
      for (const Cell& c : t.cells[n][r])
        out += fmt::format("  {:>{}}",
                           fmt::format("{} {:.1f} {}", percent(c.keep_rate()), c.mean_runs(),
                                       coverage_text(c)),
                           cell_w);
      out += "\n";
    }
  }
  return out;
}

} // namespace ar::quality
