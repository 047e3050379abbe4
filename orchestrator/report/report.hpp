#pragma once
// The morning report and the dead-ends catalogue, derived from the journal alone (plus the config
// for labels). Both files are rewritten atomically; nothing else reads them back.

#include "config/config.hpp"
#include "journal/journal.hpp"

#include <filesystem>
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

}  // namespace ar::report
