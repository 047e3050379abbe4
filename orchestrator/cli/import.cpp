#include "cli/commands.hpp"

#include "git/git.hpp"
#include "ideas/ideas.hpp"
#include "importer/dry_run.hpp"
#include "importer/ideas_merge.hpp"
#include "importer/pi_session.hpp"
#include "importer/plan.hpp"
#include "journal/journal.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <cctype>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace ar::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// ideas.md when it is a symlink whose target is missing: writing it would replace the link.
void check_ideas_link(const fs::path& ideas) {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(ideas, ec)) && !fs::exists(ideas, ec)) {
    throw Error(fmt::format("import: {} is a symlink to {}, which does not exist; create that file or remove the "
                            "link (import writes ideas through the link, never over it); nothing was written",
                            ideas.string(), fs::read_symlink(ideas, ec).string()));
  }
}

}  // namespace

int run_import(const ImportOptions& options) {
  const fs::path dir = fs::weakly_canonical(fs::absolute(options.dir));
  const fs::path config_path = dir / k_default_config;
  std::error_code ec;
  if (!options.force && (fs::exists(config_path, ec) || fs::is_symlink(fs::symlink_status(config_path, ec)))) {
    throw Error(fmt::format("import: {} exists; pass --force to overwrite it (nothing was written)",
                            config_path.string()));
  }
  for (char c : options.session) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-')
      throw ConfigError(fmt::format("import: --session \"{}\": use letters, digits, '.', '_' and '-'", options.session));
  }
  git::Repository repo = git::Repository::discover(dir);
  const fs::path repo_root = fs::weakly_canonical(repo.workdir());

  importer::PlanInput in;
  in.files = importer::find_session(dir);
  if (!options.log.empty()) {
    fs::path log = fs::weakly_canonical(fs::absolute(options.log));
    if (!fs::is_regular_file(log, ec)) throw Error(fmt::format("import: --log {}: no such file", options.log.string()));
    in.files.log = log.lexically_relative(dir).generic_string();
  }
  const fs::path journal = dir / "results.jsonl";
  if (!in.files.log.empty() && same_file(dir / in.files.log, journal)) {
    throw Error(fmt::format(
        "import: {} is the pi log itself, and it is where autoresearch writes its journal; rename it back "
        "(mv results.jsonl autoresearch.jsonl) and import again; nothing was written",
        journal.string()));
  }
  if (!in.files.log.empty()) in.log = importer::read_log(dir / in.files.log, in.files.log);
  if (!in.files.config.empty()) in.config = importer::read_config(dir / in.files.config, in.files.config);
  for (const std::string& p : in.files.all) {
    std::string rel = (dir / p).lexically_relative(repo_root).generic_string();
    if (!repo.is_tracked(rel)) in.untracked.insert(p);
  }
  std::string rel_dir = dir.lexically_relative(repo_root).generic_string();
  in.rel_dir = rel_dir == "." ? "" : rel_dir;
  in.session = options.session;
  in.imported_at = util::utc_now_iso();
  in.tool_version = AUTORESEARCH_VERSION;

  // A first plan names the command and the harness; the dry run then says which METRIC names the
  // benchmark really prints, and the plan is made again with them.
  importer::Plan plan = importer::make_plan(in);
  std::string dry_note;
  if (options.dry_run) {
    importer::DryRun dr =
        importer::dry_run_benchmark(repo, dir, plan.harness, plan.benchmark_command, std::chrono::minutes(10));
    dry_note = fmt::format("dry run of `{}` in a temporary worktree{}: {}{}", plan.benchmark_command,
                           dr.confined ? " (sandboxed)" : " (unconfined: no sandbox here)", dr.outcome,
                           dr.printed.empty() ? "; no METRIC line"
                                              : fmt::format("; it printed {}", fmt::join(dr.printed, ", ")));
    if (!dr.printed.empty()) in.printed = dr.printed;
    plan = importer::make_plan(in);
  }

  // The journal: the history goes in once, before any run of the session.
  std::vector<std::string> warnings;
  journal::SessionView view = journal::load_view(journal, plan.session, warnings, false, {}, journal::Keep::summaries);
  bool history = !plan.records.empty();
  std::string history_note;
  if (view.own() > 0) {
    throw Error(fmt::format(
        "import: {} already holds {} experiment(s) of session \"{}\"; choose another name with --session "
        "(nothing was written)",
        journal.string(), view.own(), plan.session));
  }
  if (!view.imported.empty()) {
    history = false;
    history_note = fmt::format("history: already imported ({} experiments in {}); not imported again",
                               view.imported.size(), journal.filename().string());
  }

  // Ideas: pi's ideas become items; runs that tried one mark it, and their records name it.
  const fs::path ideas_path = dir / "ideas.md";
  std::string pi_ideas;
  if (!in.files.ideas.empty()) pi_ideas = util::read_file(dir / in.files.ideas).value_or("");
  bool touch_ideas = !pi_ideas.empty() || history;
  if (touch_ideas) check_ideas_link(ideas_path);
  importer::IdeasMerge merged;
  if (touch_ideas) {
    merged = importer::merge_ideas(util::read_file(ideas_path).value_or(""), pi_ideas, plan.records);
  }

  if (history) {
    std::string lines = journal::line_of(plan.header);
    for (const json& r : plan.records) lines += journal::line_of(r);
    util::append_durably(journal, lines);
  }
  if (touch_ideas) {
    std::vector<json> scratch = plan.records;  // the transform may run again on a concurrent edit
    bool updated = ideas::update_file_safely(ideas_path, [&](const std::string& text) {
      scratch = plan.records;
      return importer::merge_ideas(text, pi_ideas, scratch).text;
    });
    if (!updated) util::write_file_atomic(ideas_path, merged.text);
  }
  util::write_file_atomic(config_path, plan.config_yaml);

  // What happened, and what did not.
  fmt::print("imported the pi-autoresearch session in {} ({} layout)\n", dir.string(),
             in.files.dot_auto ? ".auto/" : "flat");
  fmt::print("  wrote {} (session \"{}\", metric \"{}\")\n", config_path.filename().string(), plan.session,
             plan.metric_name);
  if (history) {
    std::map<std::string, int> counts;
    for (const json& r : plan.records) ++counts[r.value("status", "")];
    std::string c;
    for (const auto& [s, n] : counts) c += fmt::format("{}{} {}", c.empty() ? "" : ", ", n, s);
    fmt::print("  history: {} run(s) of {} as imported experiments 1-{} in {} ({}); {} stays as it was\n",
               plan.records.size(), in.files.log, plan.records.size(), journal.filename().string(), c, in.files.log);
  } else if (!history_note.empty()) {
    fmt::print("  {}\n", history_note);
  } else {
    fmt::print("  history: none (no log runs)\n");
  }
  if (touch_ideas) {
    fmt::print("  ideas.md: {} idea(s) added from {}, {} mark(s) of tried ideas\n", merged.added,
               in.files.ideas.empty() ? "(none)" : in.files.ideas, merged.marked);
  }
  if (!dry_note.empty()) fmt::print("  {}\n", dry_note);
  for (const std::string& n : plan.notes) fmt::print("  note: {}\n", n);
  if (!plan.not_mapped.empty()) {
    fmt::print("not mapped:\n");
    for (const std::string& n : plan.not_mapped) fmt::print("  - {}\n", n);
  }
  for (const std::string& w : warnings) fmt::print(stderr, "warning: {}\n", w);
  fmt::print("next: `autoresearch run` (`autoresearch status` shows the imported history)\n");
  return k_exit_ok;
}

void setup_import(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ImportOptions>();
  CLI::App* sub = app.add_subcommand(
      "import", "Take over a pi-autoresearch session: write autoresearch.config.yaml, bring its log and ideas in");
  sub->add_option("dir", opt->dir, "The pi session's folder (default: the current one)");
  sub->add_flag("--force", opt->force, "Overwrite an existing autoresearch.config.yaml");
  sub->add_option("--session", opt->session, "Session name (default: from the log's goal)");
  sub->add_option("--log", opt->log, "The pi log, when it was renamed (default: .auto/log.jsonl or autoresearch.jsonl)");
  sub->add_flag("!--no-dry-run", opt->dry_run, "Do not run the benchmark once to check the metric name");
  sub->callback([opt, &exit_code]() { exit_code = run_import(*opt); });
}

}  // namespace ar::cli
