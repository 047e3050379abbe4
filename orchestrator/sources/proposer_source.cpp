// The proposer (DESIGN §6): an external command that edits the clean candidate worktree, given a
// context file; the loop takes its diff as the patch.

#include "ideas/ideas.hpp"
#include "report/report.hpp"
#include "sources/context.hpp"
#include "sources/source.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

namespace ar::sources {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ProposerSource : public Source {
 public:
  config::SourceKind kind() const override { return config::SourceKind::proposer; }

  std::optional<Hypothesis> next(SourceEnv& env, int id) override {
    session::Session& s = env.session;
    const config::Config& cfg = s.config();
    const config::Proposer& pc = cfg.sources.proposer;
    if (pc.command.empty()) return std::nullopt;
    s.progress().stage(id, "proposer", "propose");
    const session::Paths& paths = s.paths();
    fs::path dir = paths.state_dir / "context";
    fs::create_directories(dir);
    std::string notes;
    if (!pc.notes.empty()) notes = util::read_file(paths.root / pc.notes).value_or("");
    json ctx = proposer_context(cfg, s.view(), ideas::read_ideas(paths.ideas),
                                report::render_dead_ends(s.view(), cfg, k_context_dead_ends), notes);
    fs::path ctx_md = dir / fmt::format("{:04d}.md", id);
    fs::path ctx_json = dir / fmt::format("{:04d}.json", id);
    // The proposer's outbox: the one folder of the repository it may write besides its worktree
    // (the sandbox keeps the folder itself; only its files go).
    fs::path outbox = paths.state_dir / "proposal";
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(outbox, ec)) fs::remove_all(e.path(), ec);
    fs::create_directories(outbox);
    fs::path proposal = outbox / fmt::format("{:04d}-proposal.json", id);
    util::write_file_atomic(ctx_md, context_markdown(ctx), false);
    util::write_file_atomic(ctx_json, ctx.dump(2) + "\n", false);

    Hypothesis h;
    h.source = "proposer";
    h.origin = "proposer";
    h.title = fmt::format("proposal {}", id);
    h.asi["context"] = ctx_md.lexically_relative(paths.root).generic_string();
    // The proposer sees the same variables whatever runs it, and works in the clean candidate.
    exec::Command c =
        exec::make_command(exec::Kind::proposer, "proposer", id, 1, pc.command, s.workspace().cwd(1), pc.timeout);
    c.env = {{"AUTORESEARCH_CONTEXT", ctx_md.string()},
             {"AUTORESEARCH_CONTEXT_JSON", ctx_json.string()},
             {"AUTORESEARCH_PROPOSAL", proposal.string()}};
    s.workspace().ran_command(1);
    exec::CommandResult r = env.executor.run(c);
    if (r.interrupted()) {
      s.workspace().revert();
      throw Interrupted("interrupted while the proposer was running; nothing was recorded");
    }
    read_proposal(s, proposal, id, h);
    fs::rename(proposal, dir / proposal.filename(), ec);  // kept beside its context
    bool made_commits = false;
    std::string diff = s.workspace().take_edit(made_commits);
    if (made_commits) {
      s.progress().note(
          "note: the proposer made commits; they are tested as one change and the session branch is set back");
    }
    h.patch = diff;
    h.patch_sha256 = util::sha256_hex(diff);
    if (r.timed_out()) {
      h.ended = Hypothesis::Ended{journal::Status::timeout, "proposer " + r.process.describe()};
    } else if (!r.ok()) {
      h.ended = Hypothesis::Ended{journal::Status::rejected, "proposer failed: " + r.process.describe()};
    } else if (diff.empty()) {
      h.ended = Hypothesis::Ended{journal::Status::rejected, "the proposer made no change"};
    }
    return h;
  }

 private:
  static void read_proposal(session::Session& s, const fs::path& proposal, int id, Hypothesis& h) {
    std::optional<std::string> text = util::read_file(proposal);
    if (!text) return;
    json p = json::parse(*text, nullptr, false);
    if (!p.is_object()) {
      s.progress().note(
          fmt::format("warning: experiment {}: {} is not a JSON object; using defaults", id, proposal.string()));
      return;
    }
    auto str = [&](const char* k) {
      return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string();
    };
    if (!str("title").empty()) h.title = str("title");
    h.hypothesis = str("hypothesis");
    h.mechanism = str("mechanism");
    h.idea = str("idea");
    if (p.contains("asi") && p["asi"].is_object()) {
      for (const auto& [k, v] : p["asi"].items()) h.asi[k] = v;
    }
  }
};

}  // namespace

std::unique_ptr<Source> make_proposer_source() {
  return std::make_unique<ProposerSource>();
}

}  // namespace ar::sources
