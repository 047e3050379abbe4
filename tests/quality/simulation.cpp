#include "quality/simulation.hpp"

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
  clean.name = "CV 1%, clean";
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
  // A quiet rig, where the sprt method is meant to shine.
  NoiseModel quiet;
  quiet.name = "CV 0.3%, clean";
  quiet.cv = 0.003;
  out.push_back(quiet);
  return out;
}

std::vector<double> standard_effects() { return {0.05, 0.02, 0.0, -0.01, -0.02, -0.05, -0.10}; }

std::vector<RuleSpec> standard_rules() {
  std::vector<RuleSpec> out;
  RuleSpec ours;
  ours.name = "ours (sequential)";
  out.push_back(ours);

  RuleSpec sprt;
  sprt.name = "sprt";
  sprt.rule.method = decide::Method::sprt;
  out.push_back(sprt);

  RuleSpec fixed;
  fixed.name = fmt::format("fixed {} pairs", fixed.rule.max_pairs);
  fixed.rule.method = decide::Method::fixed;
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

double RunSequence::value(int index, bool candidate) {
  const double sigma = std::sqrt(std::log1p(m_noise.cv * m_noise.cv));
  while (static_cast<int>(m_factors.size()) <= index) {
    // Draw order is fixed per run index (normal, outlier coin, slowdown), so the runs do not depend
    // on which rule asks or in which order.
    double f = std::exp(sigma * next_normal() - sigma * sigma / 2);
    const double coin = next_uniform();
    const double slow = next_uniform();
    if (coin < m_noise.outlier_rate)
      f *= 1 + m_noise.outlier_min + (m_noise.outlier_max - m_noise.outlier_min) * slow;
    m_factors.push_back(f);
  }
  const double drift = 1 + (m_drift_up ? 1 : -1) * m_noise.drift * index;
  const double level = candidate ? 1 + m_effect : 1;
  return 100 * level * m_factors[static_cast<std::size_t>(index)] * drift;
}

TrialResult run_trial(RunSequence& runs, const RuleSpec& spec) {
  TrialResult out;
  // Pair k (from 1) takes run indices 2k-2 and 2k-1: base first in odd pairs, candidate first in
  // even ones, as the loop does.
  auto pair = [&](int k, double& base, double& candidate) {
    const int first = 2 * (k - 1);
    const bool base_first = k % 2 == 1;
    base = runs.value(base_first ? first : first + 1, false);
    candidate = runs.value(base_first ? first + 1 : first, true);
  };

  switch (spec.kind) {
  case RuleKind::decide: {
    const decide::Rule& rule = spec.rule;
    decide::Paired samples;
    for (int k = 1; k <= rule.max_pairs; ++k) {
      double a = 0;
      double b = 0;
      pair(k, a, b);
      samples.base.push_back(a);
      samples.candidate.push_back(b);
      out.runs = 2 * k;
      if (!decide::is_look(rule, k) && k < rule.max_pairs) continue;
      const decide::Verdict v =
          decide::evaluate(samples, decide::Direction::lower, {}, {}, rule);
      out.outcome = v.outcome;
      if (v.outcome != decide::Outcome::undecided) break;
    }
    return out;
  }
  case RuleKind::single_run: {
    double a = 0;
    double b = 0;
    pair(1, a, b);
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
      pair(k, a, b);
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
    RunSequence runs(noise, effect, mix(cell_seed, static_cast<std::uint64_t>(t)), t % 2 == 0);
    const TrialResult r = run_trial(runs, rule);
    ++cell.trials;
    switch (r.outcome) {
    case decide::Outcome::keep: ++cell.kept; break;
    case decide::Outcome::discard: ++cell.discarded; break;
    default: ++cell.inconclusive; break;
    }
    cell.runs_sum += r.runs;
    cell.runs_sum_sq += static_cast<double>(r.runs) * r.runs;
  }
  return cell;
}

std::vector<Target> standard_targets() {
  using K = Target::Kind;
  return {
      {"no-op kept at most 2%", 0.0, K::keep_at_most, 0.02},
      {"+2% regression kept at most 0.5%", 0.02, K::keep_at_most, 0.005},
      {"-2% improvement kept at least 85%", -0.02, K::keep_at_least, 0.85},
      {"-5% improvement kept at least 97%", -0.05, K::keep_at_least, 0.97},
      {"no-op uses at most 10 runs on average", 0.0, K::runs_at_most, 10},
  };
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
  case Target::Kind::runs_at_most:
    c.observed = cell.mean_runs();
    c.allowance = 3 * cell.runs_standard_error();
    c.met = c.observed <= target.bound;
    c.within_error = c.observed <= target.bound + c.allowance;
    break;
  }
  return c;
}

Table run_table(int trials, std::uint64_t seed) {
  Table t;
  t.noises = standard_noise_models();
  t.rules = standard_rules();
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

std::string cell_text(const Cell& c) {
  return fmt::format("{} · {:.1f}", percent(c.keep_rate()), c.mean_runs());
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
  const int cell_w = 13;
  std::string out = fmt::format("{:<{}}  {:<{}}", "noise", noise_w, "rule", rule_w);
  for (double e : t.effects) out += fmt::format("  {:>{}}", format_effect(e), cell_w);
  out += "\n";
  for (std::size_t n = 0; n < t.noises.size(); ++n) {
    for (std::size_t r = 0; r < t.rules.size(); ++r) {
      out += fmt::format("{:<{}}  {:<{}}", t.noises[n].name, noise_w, t.rules[r].name, rule_w);
      for (const Cell& c : t.cells[n][r])
        out += fmt::format("  {:>{}}",
                           fmt::format("{} {:.1f}", percent(c.keep_rate()), c.mean_runs()),
                           cell_w);
      out += "\n";
    }
  }
  return out;
}

} // namespace ar::quality
