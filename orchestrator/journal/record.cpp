#include "journal/record.hpp"

#include "journal/journal.hpp"
#include "util/format.hpp"

#include <array>

namespace ar::journal {

using nlohmann::json;

namespace {

constexpr std::array<const char*, 9> k_names = {"keep",    "discard",      "inconclusive", "checks_failed", "crash",
                                                "timeout", "apply_failed", "rejected",     "interrupted"};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

const char* to_string(Status status) {
  return k_names[static_cast<size_t>(status)];
}

std::optional<Status> status_from_string(const std::string& text) {
  for (size_t i = 0; i < k_names.size(); ++i) {
    if (text == k_names[i]) return static_cast<Status>(i);
  }
  return std::nullopt;
}

bool is_failure(Status s) {
  return s == Status::crash || s == Status::timeout || s == Status::checks_failed || s == Status::apply_failed;
}

json to_json(const RunningExperiment& r) {
  return {{"id", r.id},
          {"title", r.title},
          {"source", {{"kind", r.source_kind}, {"file", r.source_file}}},
          {"hypothesis", r.hypothesis},
          {"mechanism", r.mechanism},
          {"idea", r.idea},
          {"patch_sha256", r.patch_sha256},
          {"key", r.key},
          {"base_commit", r.base_commit},
          {"started_at", r.started_at},
          {"stage", r.stage}};
}

RunningExperiment running_from_json(const json& j) {
  RunningExperiment r;
  if (!j.is_object()) return r;
  r.id = j.value("id", 0);
  r.title = str(j, "title");
  if (j.contains("source") && j["source"].is_object()) {
    r.source_kind = j["source"].value("kind", std::string("queue"));
    r.source_file = j["source"].value("file", std::string());
  }
  r.hypothesis = str(j, "hypothesis");
  r.mechanism = str(j, "mechanism");
  r.idea = str(j, "idea");
  r.patch_sha256 = str(j, "patch_sha256");
  r.key = str(j, "key");
  if (r.key.empty()) r.key = r.patch_sha256;
  r.base_commit = str(j, "base_commit");
  r.started_at = str(j, "started_at");
  r.stage = j.value("stage", std::string("?"));
  return r;
}

std::string effect_text(const MetricEffect& e) {
  return util::effect_with_ci(e.effect, e.ci_low, e.ci_high);
}

namespace {

json measurement_fields(const Measurement& m, json& record) {
  const PrimaryMetric& p = m.primary;
  json metric = {{"name", p.name},
                 {"unit", p.unit},
                 {"direction", p.direction},
                 {"base", p.base},
                 {"candidate", p.candidate},
                 {"base_median", p.base_median},
                 {"candidate_median", p.candidate_median},
                 {"effect", p.effect.effect},
                 {"ci_low", p.effect.ci_low},
                 {"ci_high", p.effect.ci_high},
                 {"improvement", p.effect.improvement},
                 {"p", p.effect.p},
                 {"p_worse", p.effect.p_worse}};
  json others = json::object();
  for (const auto& [name, o] : m.others) {
    others[name] = {{"base", o.base},
                    {"candidate", o.candidate},
                    {"base_samples", o.base_samples},
                    {"candidate_samples", o.candidate_samples}};
    if (o.change) others[name]["change"] = *o.change;
  }
  json guards = json::object();
  for (const auto& [name, g] : m.guards) {
    guards[name] = {{"direction", g.direction},  {"tolerance", g.tolerance},    {"effect", g.effect.effect},
                    {"ci_low", g.effect.ci_low}, {"ci_high", g.effect.ci_high}, {"p_worse", g.effect.p_worse}};
  }
  record["pairs"] = m.pairs;
  json blocks = json::array();
  for (const BlockInfo& b : m.blocks) {
    blocks.push_back({{"name", b.name},
                      {"pairs", b.pairs},
                      {"seed", b.seed},
                      {"effect", b.effect.effect},
                      {"ci_low", b.effect.ci_low},
                      {"ci_high", b.effect.ci_high},
                      {"p", b.effect.p}});
  }
  record["blocks"] = blocks;
  // Compact rows, one per run: [block, pair, side, exit, wall s, cpu s, cpu], and for a run on
  // Slurm also [node, job].
  json runs = json::array();
  for (const RunInfo& r : m.runs) {
    json row = json::array({r.block == "confirmation" ? 2 : 1, r.pair, r.side, r.exit, r.wall, r.cpu_seconds, r.cpu});
    if (!r.job.empty()) {
      row.push_back(r.node);
      row.push_back(r.job);
    }
    runs.push_back(row);
  }
  record["runs"] = runs;
  if (!m.node.empty()) record["node"] = m.node;
  record["cpus"] = {{"benchmark", m.cpus}, {"orchestrator", m.orchestrator_cpus}};
  if (m.prior_sd_pair > 0) record["noise_prior"] = {{"sd_pair", m.prior_sd_pair}, {"df", m.prior_df}};
  record["metrics"] = others;
  record["guards"] = guards;
  if (!m.confirms.empty()) {
    json confirms = json::object();
    for (const auto& [name, c] : m.confirms) {
      confirms[name] = {{"effect", c.effect},
                        {"ci_low", c.ci_low},
                        {"ci_high", c.ci_high},
                        {"improvement", c.improvement},
                        {"p_worse", c.p_worse}};
    }
    record["confirms"] = confirms;
  }
  const DecisionInfo& d = m.decision;
  record["decision"] = {
      {"method", d.method},         {"outcome", d.outcome}, {"reason", d.reason},       {"look_alpha", d.look_alpha},
      {"min_effect", d.min_effect}, {"alpha", d.alpha},     {"max_pairs", d.max_pairs}, {"looks", d.looks}};
  return metric;
}

json gates_json(const std::vector<GateRun>& runs) {
  json gates = json::array();
  for (const GateRun& g : runs) {
    json entry = {{"name", g.name}, {"exit", g.exit}, {"seconds", g.seconds}, {"result", g.result}};
    if (g.tail) entry["tail"] = *g.tail;
    gates.push_back(entry);
  }
  return gates;
}

}  // namespace

json to_json(const AblationRecord& a) {
  json record = {{"type", "ablation"},
                 {"schema", k_schema},
                 {"session", a.session},
                 {"at", a.at},
                 {"experiment", a.experiment},
                 {"title", a.title},
                 {"commit", a.commit},
                 {"best_commit", a.best_commit},
                 {"revert_commit", a.revert_commit},
                 {"verdict", a.verdict},
                 {"reason", a.reason},
                 {"at_keep", {{"effect", a.at_keep.effect}, {"ci_low", a.at_keep.ci_low}, {"ci_high", a.at_keep.ci_high}}},
                 {"gates", gates_json(a.gates)}};
  if (a.measurement) record["metric"] = measurement_fields(*a.measurement, record);
  return record;
}

json to_json(const ExperimentRecord& r) {
  const RunningExperiment& x = r.run;
  json record = {{"type", "experiment"},
                 {"schema", k_schema},
                 {"id", x.id},
                 {"session", x.session},
                 {"started_at", x.started_at},
                 {"finished_at", r.finished_at},
                 {"source", {{"kind", x.source_kind}, {"file", x.source_file}}},
                 {"title", x.title},
                 {"hypothesis", x.hypothesis},
                 {"mechanism", x.mechanism},
                 {"idea", x.idea},
                 {"patch_sha256", x.patch_sha256},
                 {"key", x.key},
                 {"diff_sha256", r.diff_sha256},
                 {"files", r.files},
                 {"base_commit", x.base_commit},
                 {"status", to_string(r.status)},
                 {"reason", r.reason},
                 {"asi", r.asi}};
  record["gates"] = gates_json(r.gates);
  json durations = json::object();
  for (const auto& [k, v] : r.durations) durations[k] = v;
  if (r.measurement) {
    record["metric"] = measurement_fields(*r.measurement, record);
    durations["measure"] = r.measurement->seconds;
  }
  record["durations"] = durations;
  if (!r.patch_file.empty()) record["patch_file"] = r.patch_file;
  if (!r.commit.empty()) record["commit"] = r.commit;
  if (!r.warnings.empty()) record["warnings"] = r.warnings;
  if (!r.merged_from.empty()) record["merged_from"] = r.merged_from;
  if (r.benchmark_tail) record["benchmark_tail"] = *r.benchmark_tail;
  if (!r.jobs.empty()) {
    json jobs = json::array();
    for (const JobInfo& j : r.jobs) jobs.push_back({{"id", j.id}, {"node", j.node}});
    record["slurm_jobs"] = jobs;
  }
  if (r.slot) record["slot"] = {{"slot", r.slot->slot}, {"prepared_on", r.slot->prepared_on}};
  return record;
}

}  // namespace ar::journal

namespace ar::journal {
std::string effect_text(const nlohmann::json& metric) {
  double e = metric.value("effect", 0.0);
  if (!metric.contains("ci_low")) return util::pct(e);
  return util::effect_with_ci(e, metric.value("ci_low", 0.0), metric.value("ci_high", 0.0));
}
}  // namespace ar::journal
