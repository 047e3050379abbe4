#pragma once
// The morning report and the dead-ends catalogue, derived from the journal alone (plus the config
// for labels). Both files are rewritten atomically; nothing else reads them back.

#include "config/config.hpp"
#include "journal/journal.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace ar::report {

// reports/dead-ends.md: every discarded (regression, no effect) and checks_failed experiment with
// its effect and CI, mechanism and experiment id: the do-not-retry list. With a `limit`, only the
// latest `limit` dead ends (the proposer's context is bounded).
std::string render_dead_ends(const journal::SessionView& view, const config::Config& cfg,
                             size_t limit = static_cast<size_t>(-1));
void write_dead_ends(const journal::SessionView& view, const config::Config& cfg, const std::filesystem::path& dir);

// reports/report.md: headline, kept commits, dead ends, inconclusive ones, secondary metrics,
// methodology and raw numbers.
std::string render_report(const journal::SessionView& view, const config::Config& cfg);
void write_report(const journal::SessionView& view, const config::Config& cfg, const std::filesystem::path& dir);

// The data behind the report, for `report --json`: the session, the metric and its headline, the
// machine and sandbox of the last segment, every experiment's summary, and the ids kept, dead and
// inconclusive.
nlohmann::json report_json(const journal::SessionView& view, const config::Config& cfg);

// Baseline and best of the primary metric as the journal records them. O(1): from the view's
// running aggregates.
struct Headline {
  bool measured = false;  // at least one experiment was measured
  double baseline = 0;    // median of the first measured experiment's base runs (start commit)
  double best = 0;        // median candidate value of the last keep, else the baseline
  double chained = 0;     // product of (1 + effect) over keeps, minus 1
  int baseline_experiment = 0;
  int best_experiment = 0;  // 0 when nothing was kept
};
Headline headline(const journal::SessionView& view);

// The headline at every scale (issue 13, item 2): the primary metric, each `confirm` metric (the
// same workload at other scales) and each guard, baseline against final. When the last
// `autoresearch verify` measured the best commit as it is now, its paired numbers are used (with
// the change's 95% CI, and the reference column when `reference` is configured); otherwise the
// journal's medians (baseline: the first measured experiment's base runs; final: the last keep's
// candidate runs) and no interval.
struct HeadlineRow {
  std::string name, role;  // role: "primary", "confirm", "guard (tolerance 5%)"
  decide::Direction direction = decide::Direction::lower;
  double baseline = 0, final = 0, change = 0;
  bool has_ci = false;
  double ci_low = 0, ci_high = 0;
  bool has_reference = false;
  double reference = 0;                          // the reference's median
  double ratio = 0, ratio_low = 0, ratio_high = 0;  // how many times better the final is (95% CI)
};
struct HeadlineTable {
  std::vector<HeadlineRow> rows;
  bool verified = false;      // from a verify record of the current best
  int pairs = 0;              // its pairs
  std::string at;             // when it ran
  std::string reference;      // what the reference was ("commit v1.0", "command ./old.sh"); empty: none
};
HeadlineTable headline_table(const journal::SessionView& view, const config::Config& cfg);

// The best commit (hex): the last keep's, else the start commit.
std::string best_commit(const journal::SessionView& view);

// `autoresearch ablate`'s latest line of each keep (by experiment id), for those measured at the
// best commit as it is now; an ablation of an earlier best says nothing about this one.
std::map<int, const nlohmann::json*> current_ablations(const journal::SessionView& view);
// "still helps: -18.2% (95% CI ...)", "no longer helps: +0.1% (...)", "entangled", "not measured".
std::string ablation_text(const nlohmann::json& ablation);
bool no_longer_helps(const nlohmann::json& ablation);

}  // namespace ar::report
