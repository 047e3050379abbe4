#include "app/observers.hpp"

#include "ideas/ideas.hpp"
#include "report/report.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

namespace ar::app {

namespace fs = std::filesystem;
using journal::Status;
using nlohmann::json;

namespace {

class ProgressObserver : public Observer {
 public:
  explicit ProgressObserver(session::Progress& p) : m_progress(p) {}
  void after(const journal::ExperimentRecord& r) override { m_progress.finished(r); }

 private:
  session::Progress& m_progress;
};

class HookObserver : public Observer {
 public:
  explicit HookObserver(pipeline::Context& ctx) : m_ctx(ctx) {}

  void before(const sources::Hypothesis& h, int id) override {
    run("before", m_ctx.cfg().hooks.before, id,
        {{"id", id}, {"title", h.title}, {"source", h.source}, {"origin", h.origin}});
  }
  void after(const journal::ExperimentRecord& r) override {
    run("after", m_ctx.cfg().hooks.after, r.run.id, journal::to_json(r));
  }

 private:
  void run(const char* name, const config::Hook& hook, int id, const json& experiment) {
    if (hook.command.empty()) return;
    session::Session& s = m_ctx.session;
    const journal::SessionView& view = s.view();
    report::Headline hl = report::headline(view);  // O(1): from the view's running aggregates
    json input = {{"hook", name},
                  {"session",
                   {{"name", s.config().session},
                    {"branch", s.branch()},
                    {"best_commit", git::to_hex(s.workspace().best())},
                    {"experiments", view.experiments.size()},
                    {"counts", view.counts}}},
                  {"experiment", experiment}};
    if (hl.measured) {
      input["session"]["baseline"] = hl.baseline;
      input["session"]["best"] = hl.best;
    }
    fs::path in = s.paths().state_dir / fmt::format("hook-{}.json", name);
    util::write_file_atomic(in, input.dump(2) + "\n", false);
    exec::Command c = exec::make_command(exec::Kind::hook, std::string("hook ") + name, id, -1, hook.command,
                                         s.paths().root, hook.timeout);
    c.stdin_path = in;
    exec::CommandResult r = m_ctx.executor.run(c);
    if (r.interrupted()) throw Interrupted(fmt::format("interrupted while the {} hook ran", name));
    if (!r.ok())
      s.progress().note(fmt::format("warning: {} hook: {} (see the experiment log)", name, r.process.describe()));
  }

  pipeline::Context& m_ctx;
};

class IdeasObserver : public Observer {
 public:
  explicit IdeasObserver(session::Session& s) : m_session(s) {}

  void after(const journal::ExperimentRecord& r) override {
    const fs::path& file = m_session.paths().ideas;
    const std::string& id = r.run.idea;
    if (id.empty() || !fs::exists(file)) return;
    std::string effect = r.measurement ? journal::effect_text(r.measurement->primary.effect) : "";
    int n = r.run.id;
    std::string mark;
    switch (r.status) {
      case Status::keep:
        mark = fmt::format("kept in experiment {}: {}", n, effect);
        break;
      case Status::discard:
      case Status::checks_failed:
        mark = fmt::format("dead end in experiment {}: {}{}", n, effect.empty() ? r.reason : effect,
                           r.run.mechanism.empty() ? "" : "; mechanism: " + r.run.mechanism);
        break;
      case Status::inconclusive:
        // Not a dead end (underpowered, not confirmed, undecided): the idea stays open.
        mark = fmt::format("inconclusive in experiment {}: {} ({}; may be retried)", n, effect, r.reason);
        break;
      default:
        mark = fmt::format("{} in experiment {}: {}", journal::to_string(r.status), n, r.reason);
        break;
    }
    try {
      ideas::update_file_safely(file, [&](const std::string& text) { return ideas::with_mark(text, id, mark); });
    } catch (const Error& e) {
      m_session.progress().note(fmt::format("warning: could not mark idea {} in {}: {}", id, file.string(), e.what()));
    }
  }

 private:
  session::Session& m_session;
};

}  // namespace

std::unique_ptr<Observer> progress_observer(session::Progress& p) {
  return std::make_unique<ProgressObserver>(p);
}
std::unique_ptr<Observer> hook_observer(pipeline::Context& ctx) {
  return std::make_unique<HookObserver>(ctx);
}
std::unique_ptr<Observer> ideas_observer(session::Session& s) {
  return std::make_unique<IdeasObserver>(s);
}

}  // namespace ar::app
