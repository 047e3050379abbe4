// autoresearch_realnoise_analyze: the tables of the real-noise decision benchmark, from the files
// bench/realnoise/run.sh writes: labels.tsv (patch file, class, per-mille factor), truth.tsv
// (patch file, class, pair, base seconds, candidate seconds) and sessions.tsv (name, results.jsonl,
// burner start or "-", seconds, and optionally the executor, e.g. "slots 2, pause"). Prints
// Markdown. Exit 2 on unreadable or malformed input, naming the file and line.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis.hpp"

namespace {

using ar::realnoise::Interval;
using nlohmann::json;

const std::vector<std::string> k_classes = {"noop", "regression+2%", "regression+5%", "win-3%", "win-8%"};
constexpr double k_band = 0.03;  // the line between quiet and noisy: run-to-run noise of 3%

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Rows of `columns` tab-separated cells, or of `or_columns` when it is not 0.
std::vector<std::vector<std::string>> read_tsv(const std::string& path, std::size_t columns, std::size_t or_columns = 0) {
  std::ifstream in(path);
  if (!in) throw Failure(fmt::format("{}: cannot read", path));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    if (cells.size() != columns && (or_columns == 0 || cells.size() != or_columns)) {
      throw Failure(fmt::format("{}:{}: expected {}{} tab-separated columns, found {}", path, no, columns,
                                or_columns ? fmt::format(" or {}", or_columns) : "", cells.size()));
    }
    rows.push_back(cells);
  }
  return rows;
}

double number(const std::string& s, const std::string& where) {
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw Failure(fmt::format("{}: not a number: '{}'", where, s));
}

std::string pct(double x, int digits = 1) {
  return std::isfinite(x) ? fmt::format("{:.{}f}%", 100 * x, digits) : "n/a";
}

std::string signed_pct(double x, int digits = 2) {
  return std::isfinite(x) ? fmt::format("{:+.{}f}%", 100 * x, digits) : "n/a";
}

struct Truth {
  double effect = 0, low = 0, high = 0, noise = std::nan("");
  int pairs = 0;
  double nominal = 0;  // by construction: the slot's factor / 1000 - 1
};

struct Experiment {
  std::string cls, session, executor, status, reason;
  bool burner = false;
  int pairs = 0;
  double noise = std::nan("");
  double effect = std::nan(""), ci_low = std::nan(""), ci_high = std::nan("");
};

bool measured(const Experiment& e) {
  return e.status == "keep" || e.status == "discard" || e.status == "inconclusive";
}

// A keep rate with its one-sided 95% bound: upper for no-ops and regressions (how bad can the
// false keeps be), lower for wins (how low can the power be).
std::string rate(int k, int n, bool upper) {
  if (n == 0) return "–";
  const double b = upper ? ar::realnoise::upper_bound(k, n) : ar::realnoise::lower_bound(k, n);
  return fmt::format("{}/{} = {} ({} {})", k, n, pct(static_cast<double>(k) / n), upper ? "≤" : "≥", pct(b));
}

bool is_win(const std::string& cls) { return cls.rfind("win", 0) == 0; }

double median(std::vector<double> x) {
  if (x.empty()) return std::nan("");
  std::sort(x.begin(), x.end());
  const std::size_t m = x.size() / 2;
  return x.size() % 2 ? x[m] : (x[m - 1] + x[m]) / 2;
}

// The executors side by side (run.sh --slots 1,2): false keeps, wins kept and the A/A noise of the
// no-ops, with the spread of that noise over each executor's sessions, so that a rise can be told
// from the sessions' own variation. Experiments under the CPU burner are left out.
void print_executors(const std::vector<std::string>& executors, const std::vector<Experiment>& exps) {
  fmt::print("\n## Per executor\n\n");
  fmt::print("Sessions run in turn with each executor; experiments under the CPU burner left out. A/A noise: the "
             "run-to-run noise of the no-op experiments (as in the noise bands), median over the experiments, and "
             "the range of the per-session medians.\n\n");
  fmt::print("| executor | sessions | no-ops kept | regressions kept | win-3% kept | win-8% kept | runs per no-op | "
             "A/A noise, median | per-session medians |\n|---|---:|---|---|---|---|---:|---:|---|\n");
  for (const auto& ex : executors) {
    int nn = 0, nk = 0, rn = 0, rk = 0, w3n = 0, w3k = 0, w8n = 0, w8k = 0, noop_runs = 0;
    std::vector<double> noise;
    std::map<std::string, std::vector<double>> per_session;
    for (const auto& e : exps) {
      if (e.executor != ex || e.burner || !measured(e)) continue;
      const bool keep = e.status == "keep";
      if (e.cls == "noop") {
        nn += 1, nk += keep, noop_runs += 2 * e.pairs;
        if (std::isfinite(e.noise)) noise.push_back(e.noise), per_session[e.session].push_back(e.noise);
      } else if (e.cls.rfind("regression", 0) == 0) {
        rn += 1, rk += keep;
      } else if (e.cls == "win-3%") {
        w3n += 1, w3k += keep;
      } else if (e.cls == "win-8%") {
        w8n += 1, w8k += keep;
      }
    }
    std::vector<double> session_medians;
    for (const auto& [name, v] : per_session) session_medians.push_back(median(v));
    std::sort(session_medians.begin(), session_medians.end());
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", ex, per_session.size(), rate(nk, nn, true),
               rate(rk, rn, true), rate(w3k, w3n, false), rate(w8k, w8n, false),
               nn ? fmt::format("{:.1f}", static_cast<double>(noop_runs) / nn) : "–", pct(median(noise), 2),
               session_medians.empty() ? "–"
                                       : fmt::format("{}–{}", pct(session_medians.front(), 2), pct(session_medians.back(), 2)));
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Tables of the real-noise decision benchmark (bench/realnoise/run.sh)"};
  std::string labels_path, truth_path, sessions_path, command;
  long seconds = -1;
  app.add_option("--labels", labels_path, "labels.tsv")->required();
  app.add_option("--truth", truth_path, "truth.tsv")->required();
  app.add_option("--sessions", sessions_path, "sessions.tsv")->required();
  app.add_option("--command", command, "the command line to print with the tables");
  app.add_option("--seconds", seconds, "the benchmark's wall time, to print");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::map<std::string, std::string> class_of;  // patch file -> class
  std::map<std::string, int> patches_per_class;
  std::map<std::string, double> nominal_of;  // class -> nominal effect
  for (const auto& row : read_tsv(labels_path, 3)) {
    if (std::find(k_classes.begin(), k_classes.end(), row[1]) == k_classes.end()) {
      throw Failure(fmt::format("{}: unknown class '{}' of {}", labels_path, row[1], row[0]));
    }
    class_of[row[0]] = row[1];
    ++patches_per_class[row[1]];
    nominal_of[row[1]] = number(row[2], labels_path) / 1000 - 1;
  }

  // Ground truth: the mean log ratio of the interleaved pairs of each effect patch.
  // Columns 6 and 7, when there, are the CPU times of the same runs.
  std::map<std::string, std::vector<double>> truth_d, truth_cpu;
  int truth_line = 0;
  for (const auto& row : read_tsv(truth_path, 5, 7)) {
    const std::string where = fmt::format("{}:{}", truth_path, ++truth_line);
    const double a = number(row[3], where), b = number(row[4], where);
    if (a <= 0 || b <= 0) throw Failure(fmt::format("{}: run times must be positive", where));
    truth_d[row[1]].push_back(std::log(b / a));
    if (row.size() == 7) {
      const double ac = number(row[5], where), bc = number(row[6], where);
      if (ac <= 0 || bc <= 0) throw Failure(fmt::format("{}: CPU times must be positive", where));
      truth_cpu[row[1]].push_back(std::log(bc / ac));
    }
  }
  std::map<std::string, Truth> truth;
  truth["noop"] = Truth{0, 0, 0, std::nan(""), 0};
  for (const auto& [cls, d] : truth_d) {
    const Interval i = ar::realnoise::mean_interval(d);
    double ss = 0;
    for (double v : d) ss += (v - i.mean) * (v - i.mean);
    const double noise = d.size() > 1 ? std::sqrt(ss / static_cast<double>(d.size() - 1)) / std::sqrt(2.0) : std::nan("");
    truth[cls] = Truth{std::expm1(i.mean), std::expm1(i.low), std::expm1(i.high), noise, i.n, nominal_of[cls]};
  }
  for (const auto& cls : k_classes) {
    if (truth.count(cls) == 0) throw Failure(fmt::format("{}: no ground truth for {}", truth_path, cls));
  }

  // The sessions' journals.
  std::vector<Experiment> exps;
  std::vector<std::vector<double>> order_clusters;  // ln(second / first) of every no-op pair, per experiment
  int order_base_first = 0;
  struct Calibration {
    bool broken = false;
    double cv = std::nan(""), detectable = std::nan("");
  };
  std::vector<Calibration> calibrations;
  struct SessionRow {
    std::string name, burner;
    long seconds = 0;
    int experiments = 0, kept = 0;
    std::string executor;
  };
  std::vector<SessionRow> session_rows;
  std::vector<std::string> executors;  // in order of first appearance
  for (const auto& row : read_tsv(sessions_path, 4, 5)) {
    SessionRow srow{row[0], row[2], static_cast<long>(number(row[3], sessions_path)), 0, 0,
                    row.size() == 5 ? row[4] : "slots 1"};
    if (std::find(executors.begin(), executors.end(), srow.executor) == executors.end()) {
      executors.push_back(srow.executor);
    }
    std::ifstream in(row[1]);
    if (!in) throw Failure(fmt::format("{}: cannot read", row[1]));
    std::string line;
    for (int no = 1; std::getline(in, line); ++no) {
      if (line.empty()) continue;
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) throw Failure(fmt::format("{}:{}: not a JSON object", row[1], no));
      const std::string type = j.value("type", "");
      if (type == "calibration") {
        Calibration c;
        c.broken = j.value("broken", false);
        if (j.contains("detectable_effect") && j["detectable_effect"].is_number()) c.detectable = j["detectable_effect"];
        const json cv = j.value("/metrics/seconds/cv"_json_pointer, json());
        if (cv.is_number()) c.cv = cv.get<double>();
        calibrations.push_back(c);
        continue;
      }
      if (type != "experiment") continue;
      const std::string file = j.value("/source/file"_json_pointer, std::string());
      std::string base = file.substr(file.find_last_of('/') + 1);
      base = base.substr(base.find('-') + 1);  // the queue's shuffled order prefix "NN-"
      const auto cls = class_of.find(base);
      if (cls == class_of.end()) throw Failure(fmt::format("{}:{}: experiment from '{}' is not in {}", row[1], no, file, labels_path));
      Experiment e;
      e.cls = cls->second;
      e.session = row[0];
      e.executor = srow.executor;
      e.status = j.value("status", "");
      e.reason = j.value("reason", "");
      e.pairs = j.value("pairs", 0);
      e.burner = row[2] != "-" && j.value("started_at", std::string()) >= row[2];
      e.noise = ar::realnoise::run_noise(j);
      if (j.contains("metric") && j["metric"].is_object()) {
        const json& m = j["metric"];
        if (m.value("effect", json()).is_number()) e.effect = m["effect"];
        if (m.value("ci_low", json()).is_number()) e.ci_low = m["ci_low"];
        if (m.value("ci_high", json()).is_number()) e.ci_high = m["ci_high"];
      }
      if (e.cls == "noop" && measured(e)) {
        std::vector<double> o;
        for (const auto& p : ar::realnoise::ordered_pairs(j)) {
          if (p.first > 0 && p.second > 0) o.push_back(std::log(p.second / p.first));
          if (p.first_side == 0) ++order_base_first;
        }
        order_clusters.push_back(o);
      }
      ++srow.experiments;
      if (e.status == "keep") ++srow.kept;
      exps.push_back(e);
    }
    session_rows.push_back(srow);
  }

  // --- output -------------------------------------------------------------------------------------
  fmt::print("# Real-noise decision benchmark\n\n");
  if (!command.empty()) fmt::print("Command: `{}`", command);
  if (seconds >= 0) fmt::print(" ({} s of wall time)", seconds);
  fmt::print("\n\n");

  fmt::print("## Ground truth\n\n");
  fmt::print("The true effect is the nominal one, by construction (the work scales with the slot's factor; a no-op "
             "leaves the binary identical); the interleaved pairs measure it as a check.\n\n");
  fmt::print("| class | patches | nominal effect | measured (wall) | 95% CI | measured (CPU time) | 95% CI | pairs | "
             "run-to-run noise (wall) |\n|---|---:|---:|---:|---|---:|---|---:|---:|\n");
  for (const auto& cls : k_classes) {
    const Truth& t = truth[cls];
    if (cls == "noop") {
      fmt::print("| {} | {} | 0 (binary identical) | – | – | – | – | – | – |\n", cls, patches_per_class[cls]);
      continue;
    }
    std::string cpu = "– | –";
    if (truth_cpu[cls].size() >= 2) {
      const Interval c = ar::realnoise::mean_interval(truth_cpu[cls]);
      cpu = fmt::format("{} | [{}, {}]", signed_pct(std::expm1(c.mean)), signed_pct(std::expm1(c.low)),
                        signed_pct(std::expm1(c.high)));
    }
    fmt::print("| {} | {} | {} | {} | [{}, {}] | {} | {} | {} |\n", cls, patches_per_class[cls], signed_pct(t.nominal, 1),
               signed_pct(t.effect), signed_pct(t.low), signed_pct(t.high), cpu, t.pairs, pct(t.noise, 2));
  }

  fmt::print("\n## Verdicts\n\n");
  fmt::print("Kept with a one-sided 95% Clopper-Pearson bound (upper for no-ops and regressions, lower for wins); "
             "runs: mean benchmark runs per decision (2 a pair, both blocks, warm-up not counted).\n\n");
  fmt::print("| class | experiments | kept | discard: no effect | discard: regression | inconclusive | other | runs |\n"
             "|---|---:|---|---:|---:|---:|---:|---:|\n");
  int reg_n = 0, reg_k = 0, noop_n = 0, noop_k = 0;
  for (const auto& cls : k_classes) {
    int n = 0, k = 0, no_effect = 0, regression = 0, inconclusive = 0, other = 0, runs = 0;
    for (const auto& e : exps) {
      if (e.cls != cls) continue;
      if (!measured(e)) {
        ++other;
        continue;
      }
      ++n;
      runs += 2 * e.pairs;
      if (e.status == "keep") ++k;
      else if (e.status == "inconclusive") ++inconclusive;
      else if (e.reason == "regression") ++regression;
      else ++no_effect;
    }
    if (cls == "noop") noop_n = n, noop_k = k;
    if (cls.rfind("regression", 0) == 0) reg_n += n, reg_k += k;
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} |\n", cls, n, rate(k, n, !is_win(cls)), no_effect, regression,
               inconclusive, other, n ? fmt::format("{:.1f}", static_cast<double>(runs) / n) : "–");
  }
  fmt::print("\nno-ops kept: {} of {}\nregressions kept: {} of {}\n", noop_k, noop_n, reg_k, reg_n);

  // Coverage: does the reported 95% CI contain the nominal effect? Kept experiments (the issue's
  // target) and every measured one, per class; kept wins' reported effect against the nominal.
  fmt::print("\n## Coverage of the reported 95% CI\n\n");
  fmt::print("| class | kept: CI covers the true effect | all measured: CI covers it |\n|---|---|---|\n");
  int kept = 0, covered = 0;
  std::vector<double> ratios;
  for (const auto& cls : k_classes) {
    int kn = 0, kc = 0, an = 0, ac = 0;
    const double t = truth[cls].nominal;
    for (const auto& e : exps) {
      if (e.cls != cls || !measured(e) || !std::isfinite(e.ci_low) || !std::isfinite(e.ci_high)) continue;
      const bool in = e.ci_low <= t && t <= e.ci_high;
      ++an, ac += in;
      if (e.status != "keep") continue;
      ++kn, kc += in;
      if (is_win(cls) && std::isfinite(e.effect)) ratios.push_back(e.effect / t);
    }
    kept += kn, covered += kc;
    fmt::print("| {} | {} | {} |\n", cls, rate(kc, kn, false), rate(ac, an, false));
  }
  if (kept == 0) {
    fmt::print("\nNo experiment was kept.\n");
  } else {
    std::sort(ratios.begin(), ratios.end());
    fmt::print("\nKept effects whose 95% CI covers the true effect: {} of {} = {} (one-sided 95% lower bound {}).",
               covered, kept, pct(static_cast<double>(covered) / kept), pct(ar::realnoise::lower_bound(covered, kept)));
    if (!ratios.empty()) {
      fmt::print(" Reported / true effect of kept wins: median {:.2f} (range {:.2f}-{:.2f}).", ratios[ratios.size() / 2],
                 ratios.front(), ratios.back());
    }
    fmt::print("\n");
  }

  fmt::print("\n## Order effect\n\n");
  const Interval o = ar::realnoise::clustered_interval(order_clusters);
  if (o.n < 2) {
    fmt::print("Too few no-op pairs ({}).\n", o.n);
  } else {
    fmt::print("Second run of a pair against the first, over every no-op pair: {} [{}, {}] (95% CI, experiments "
               "as clusters), {} pairs in {} experiments; the base ran first in {} of them.\n",
               signed_pct(std::expm1(o.mean)), signed_pct(std::expm1(o.low)), signed_pct(std::expm1(o.high)), o.n,
               order_clusters.size(), order_base_first);
  }

  fmt::print("\n## Keep rate per noise band\n\n");
  fmt::print("Noise band of an experiment: its own run-to-run noise, the standard deviation of ln(candidate/base) "
             "over its pairs / √2.\n\n");
  fmt::print("| class | noise ≤ 3% | noise > 3% | under the CPU burner |\n|---|---|---|---|\n");
  for (const auto& cls : k_classes) {
    int nq = 0, kq = 0, nn = 0, kn = 0, nb = 0, kb = 0;
    for (const auto& e : exps) {
      if (e.cls != cls || !measured(e)) continue;
      const bool keep = e.status == "keep";
      if (std::isfinite(e.noise) && e.noise <= k_band) nq += 1, kq += keep;
      else nn += 1, kn += keep;
      if (e.burner) nb += 1, kb += keep;
    }
    fmt::print("| {} | {} | {} | {} |\n", cls, rate(kq, nq, !is_win(cls)), rate(kn, nn, !is_win(cls)),
               rate(kb, nb, !is_win(cls)));
  }

  if (executors.size() > 1) print_executors(executors, exps);

  fmt::print("\n## Sessions and calibrations\n\n");
  fmt::print("| session | executor | experiments | kept | seconds | CPU burner from |\n|---|---|---:|---:|---:|---|\n");
  for (const auto& s : session_rows) {
    fmt::print("| {} | {} | {} | {} | {} | {} |\n", s.name, s.executor, s.experiments, s.kept, s.seconds, s.burner);
  }
  int broken = 0;
  std::vector<double> cvs, detectable;
  for (const auto& c : calibrations) {
    broken += c.broken;
    if (std::isfinite(c.cv)) cvs.push_back(c.cv);
    if (std::isfinite(c.detectable)) detectable.push_back(c.detectable);
  }
  std::sort(cvs.begin(), cvs.end());
  std::sort(detectable.begin(), detectable.end());
  fmt::print("\nCalibrations: {}, refused as broken: {}", calibrations.size(), broken);
  if (!calibrations.empty()) {
    fmt::print(" ({} upper bound {})", pct(static_cast<double>(broken) / static_cast<double>(calibrations.size())),
               pct(ar::realnoise::upper_bound(broken, static_cast<int>(calibrations.size()))));
  }
  if (!cvs.empty()) {
    fmt::print("; run-to-run CV median {} (range {}-{}); detectable effect median {}", pct(cvs[cvs.size() / 2], 2),
               pct(cvs.front(), 2), pct(cvs.back(), 2), detectable.empty() ? "n/a" : pct(detectable[detectable.size() / 2]));
  }
  fmt::print(".\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Failure& e) {
    std::fprintf(stderr, "autoresearch_realnoise_analyze: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autoresearch_realnoise_analyze: error: %s\n", e.what());
    return 2;
  }
}
