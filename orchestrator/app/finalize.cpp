// `autoresearch finalize`: the session's kept commits as independent review branches. Keeps that
// touch a common file fall into one group (a union over files); each group becomes one commit on
// the session's start commit, under refs/heads/autoresearch-review/<session>/<NN>-<slug>, holding
// its files as the session's best commit has them (no other group touches them, so that is exactly
// the group's own change). Before success: no branch is empty, the union of all branches is the
// best commit's tree, and each branch builds and passes the gates on its own, through the loop's
// own build and gate commands in the base worktree. A failure removes every branch it made.
#include "app/commands.hpp"

#include "exec/executor.hpp"
#include "pipeline/bench.hpp"
#include "pipeline/stages.hpp"
#include "report/report.hpp"
#include "util/error.hpp"
#include "util/format.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>

#include <fmt/format.h>

namespace ar::app {

namespace {

struct Group {
  std::vector<const journal::Summary*> keeps;
  std::vector<std::string> files;
  std::string ref;
  git_oid commit{};
};

std::string slug(const std::string& title) {
  std::string out;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "change" : out;
}

std::string message_of(const Group& g) {
  std::string titles;
  for (const journal::Summary* k : g.keeps) titles += (titles.empty() ? "" : "; ") + k->title;
  std::string body;
  for (const journal::Summary* k : g.keeps) {
    body += fmt::format("- #{} {}: {}{}\n", k->id, k->title, util::effect_with_ci(k->effect, k->ci_low, k->ci_high),
                        k->mechanism.empty() ? "" : ". " + k->mechanism);
  }
  return titles + "\n\nKept by autoresearch, each measured when it was kept:\n" + body;
}

// The keeps in order, grouped so that no two groups share a file.
std::vector<Group> plan(session::Session& s, git::Repository& repo) {
  const journal::SessionView& view = s.view();
  std::vector<const journal::Summary*> keeps;
  std::vector<std::vector<std::string>> files;
  for (std::size_t i : view.kept) {
    const journal::Summary& k = view.experiments[i];
    keeps.push_back(&k);
    files.push_back(git::tree_changes(repo.get(), git::from_hex(k.base_commit), git::from_hex(k.commit)));
  }
  std::vector<std::size_t> parent(keeps.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto root = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::map<std::string, std::size_t> owner;
  for (std::size_t i = 0; i < keeps.size(); ++i) {
    for (const std::string& f : files[i]) {
      auto [it, fresh] = owner.emplace(f, i);
      if (!fresh) parent[std::max(root(i), root(it->second))] = std::min(root(i), root(it->second));
    }
  }
  std::vector<Group> groups;
  std::map<std::size_t, std::size_t> group_of;
  for (std::size_t i = 0; i < keeps.size(); ++i) {
    auto [it, fresh] = group_of.emplace(root(i), groups.size());
    if (fresh) groups.emplace_back();
    Group& g = groups[it->second];
    g.keeps.push_back(keeps[i]);
    for (const std::string& f : files[i]) {
      if (std::find(g.files.begin(), g.files.end(), f) == g.files.end()) g.files.push_back(f);
    }
  }
  for (std::size_t n = 0; n < groups.size(); ++n) {
    groups[n].ref = fmt::format("refs/heads/autoresearch-review/{}/{:02d}-{}", s.config().session, n + 1,
                                slug(groups[n].keeps.front()->title));
  }
  return groups;
}

}  // namespace

std::string build_and_gate(pipeline::Context& ctx, const std::string& label) {
  if (!ctx.cfg().build.command.empty()) {
    ctx.stage(0, label, "build");
    exec::CommandResult b = pipeline::build_side(ctx, 0, 0, label + " build");
    if (b.interrupted()) throw Interrupted(label + ": interrupted");
    if (!b.ok()) return "the build failed (" + b.process.describe() + ")";
  }
  // The gates before the benchmark, then (when there are any after it) one benchmark run and those.
  for (bool after : {false, true}) {
    if (after && pipeline::has_gates_after_benchmark(ctx.cfg())) {
      ctx.stage(0, label, "benchmark run for the gates");
      pipeline::Bench bench(ctx, 0, label);
      ctx.workspace().snapshot(0, ctx.cfg().protected_paths);
      auto got = bench.run_once(0, label + " benchmark run before the gates");
      if (auto* end = std::get_if<pipeline::Outcome>(&got)) {
        if (end->status == journal::Status::interrupted) throw Interrupted(label + ": interrupted");
        return "the benchmark run before the gates failed (" + end->reason + ")";
      }
    }
    for (const config::Gate& g : ctx.cfg().gates) {
      if (g.after_benchmark != after) continue;
      ctx.stage(0, label, "gate " + g.name);
      exec::Command c = exec::make_command(exec::Kind::gate, label + " gate " + g.name, 0, 0, g.command,
                                           ctx.workspace().cwd(0), g.timeout);
      ctx.workspace().ran_command(0);
      exec::CommandResult r = ctx.executor.run(c);
      if (r.interrupted()) throw Interrupted(label + ": interrupted");
      if (!r.ok()) return fmt::format("gate {} failed ({})", g.name, r.process.describe());
    }
  }
  return "";
}

Summary finalize_command(pipeline::Context& ctx, bool dry_run) {
  session::Session& s = ctx.session;
  git::Repository& repo = s.repo();
  const journal::SessionView& view = s.view();
  if (view.kept.empty()) throw Error(fmt::format("finalize: session {} kept nothing yet", s.config().session));
  const git_oid start = git::from_hex(view.start_commit);
  const git_oid best = git::from_hex(view.experiments[view.kept.back()].commit);
  std::vector<Group> groups = plan(s, repo);
  for (const Group& g : groups) {
    std::string ids;
    for (const journal::Summary* k : g.keeps) ids += fmt::format("{}#{}", ids.empty() ? "" : ", ", k->id);
    std::string files;
    for (const std::string& f : g.files) files += (files.empty() ? "" : ", ") + f;
    s.progress().note(fmt::format("{}: {} ({})", g.ref.substr(11), ids, files));
  }
  // What `autoresearch ablate` found at this best commit: a keep that no longer helps is worth
  // dropping before review.
  for (const auto& [id, a] : report::current_ablations(view)) {
    if (!report::no_longer_helps(*a)) continue;
    s.progress().note(fmt::format("warning: #{} {} no longer helps at the best commit: {} ({}; autoresearch ablate at {})",
                                  id, a->value("title", ""), report::ablation_text(*a), a->value("reason", ""),
                                  a->value("at", "")));
  }
  if (dry_run) {
    return {0, fmt::format("finalize --dry-run: {} review branch(es) from {} kept experiment(s); nothing created",
                           groups.size(), view.kept.size()),
            {}};
  }

  const std::string prefix = "refs/heads/autoresearch-review/" + s.config().session + "/";
  for (const std::string& old : git::refs_under(repo, prefix)) repo.delete_ref(old);
  auto fail = [&](const std::string& why) {
    for (const Group& g : groups) {
      if (repo.resolve(g.ref)) repo.delete_ref(g.ref);
    }
    ctx.workspace().restore();
    return Error("finalize: " + why + "; no review branch was left");
  };
  std::vector<std::string> all_files;
  for (Group& g : groups) {
    git_oid tree = git::tree_with_paths(repo, start, best, g.files);
    git_oid start_tree = git::tree_id(repo, start);
    if (git_oid_equal(&tree, &start_tree) != 0) throw fail(g.ref.substr(11) + " would be empty");
    g.commit = git::commit_tree_on(repo, start, tree, message_of(g));
    repo.set_ref(g.ref, g.commit, "autoresearch: finalize");
    all_files.insert(all_files.end(), g.files.begin(), g.files.end());
  }
  git_oid all = git::tree_with_paths(repo, start, best, all_files);
  git_oid best_tree = git::tree_id(repo, best);
  if (git_oid_equal(&all, &best_tree) == 0) {
    throw fail("the review branches together differ from the best commit " + git::to_hex(best).substr(0, 12));
  }
  for (const Group& g : groups) {
    ctx.workspace().move_base(g.commit);
    std::string why = build_and_gate(ctx, g.ref.substr(11));
    if (!why.empty()) throw fail(g.ref.substr(11) + ": " + why + " on its own");
  }
  ctx.workspace().restore();
  return {0, fmt::format("finalize: {} review branch(es) under autoresearch-review/{}/, each built and gated on its "
                         "own; together they equal the best commit {}",
                         groups.size(), s.config().session, git::to_hex(best).substr(0, 12)),
          {}};
}

}  // namespace ar::app
