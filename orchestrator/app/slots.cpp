#include "app/slots.hpp"

#include "pipeline/stages.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <chrono>
#include <fstream>
#include <future>
#include <set>

#include <fmt/format.h>

namespace ar::app {

namespace fs = std::filesystem;
using journal::Status;

struct Slots::Prep {
  pipeline::StageResult end;  // the outcome when apply, build or gates ended the experiment
  journal::ExperimentRecord part;  // their gates and durations
  std::string best;                // the best commit they ran on
  nlohmann::json config;           // the config they ran with
  nlohmann::json harness;          // the harness files (their fingerprints) they ran with
  std::exception_ptr error;        // what they threw (the best commit does not build, interrupted)
};

// Between start() and the end of its future, a slot's worktrees, executor, config snapshot and job
// are its thread's; the loop's thread touches them again only after the future is ready.
struct Slots::Slot {
  int number = 0;
  std::unique_ptr<session::Workspace> ws;
  exec::Sandbox sandbox;
  std::atomic<bool> cancel{false};
  std::unique_ptr<exec::Executor> executor;
  config::Config cfg;                               // the snapshot its thread reads
  std::vector<session::HarnessFile> harness;        // likewise: the session's harness files
  std::unique_ptr<pipeline::Context> prep_ctx;      // its thread's: stages go to the table only
  std::unique_ptr<pipeline::Context> turn_ctx;      // the loop's, at the experiment's turn
  bool busy = false;                                // holds a job (running or prepared)
  int id = 0;
  sources::Hypothesis h;
  std::future<Prep> prep;
  std::string best;                      // the best commit its preparation started on
  std::vector<std::string> prepared_on;  // the bests of its earlier preparations, at their end
};

// The experiment at its turn: hands run_experiment the slot's preparation.
class Slots::Turn : public pipeline::Prepared {
 public:
  Turn(Slots& slots, Slot* slot, const sources::Hypothesis& h, int id) : m_slots(slots), m_slot(slot), m_h(h), m_id(id) {}

  pipeline::Context& wait(pipeline::Context& ctx, journal::ExperimentRecord& record, pipeline::StageResult& end) override {
    if (m_slot == nullptr) {  // refused when it was picked, passed now: prepare it here
      m_slot = m_slots.free_slot();
      if (m_slot == nullptr) throw Error(fmt::format("experiment {}: no free executor slot", m_id));
      m_slots.start(*m_slot, m_h, m_id, false);
    }
    Slot& slot = *m_slot;
    ctx.stage(m_id, m_h.title, fmt::format("prepared in slot {}", slot.number));
    for (;;) {
      Prep p = m_slots.wait_for(slot);
      slot.prepared_on.push_back(p.best);
      if (p.error) {
        try {
          std::rethrow_exception(p.error);
        } catch (const Interrupted&) {
          end = pipeline::Outcome{Status::interrupted, ""};
          break;
        }
      }
      const std::string best = git::to_hex(ctx.workspace().best());
      const bool current = p.best == best && p.config == config::to_json(ctx.cfg()) &&
                           p.harness == session::harness_json(ctx.workspace().harness());
      if (!current && !interrupted()) {
        // A keep (or a config edit) came after it was prepared: it is measured only against the
        // current best, so apply, build and gates run again on it.
        std::ofstream log(ctx.session.paths().logs / fmt::format("{:04d}.log", m_id), std::ios::app);
        log << fmt::format("==> {} prepared on {}; the best is now {}{}: apply, build and gates again\n",
                           util::utc_now_iso(), p.best.substr(0, 12), best.substr(0, 12),
                           p.best == best ? " (the config changed)" : "");
        m_slots.start(slot, m_h, m_id, true);
        continue;
      }
      record.gates = p.part.gates;
      record.merged_from = p.part.merged_from;
      if (!record.merged_from.empty()) {
        ctx.session.progress().note(fmt::format("experiment {}: the patch no longer applied to the best commit; "
                                                "applied to {} and merged three-way",
                                                m_id, record.merged_from.substr(0, 12)));
      }
      for (const auto& [name, seconds] : p.part.durations) record.durations[name] = seconds;
      end = p.end;
      break;
    }
    record.slot = journal::SlotInfo{slot.number, slot.prepared_on};
    return *slot.turn_ctx;
  }

  void drop() override {
    if (m_slot != nullptr) m_slots.stop(*m_slot, false);
    m_slot = nullptr;
  }

  Slot* slot() const { return m_slot; }

 private:
  Slots& m_slots;
  Slot* m_slot;
  const sources::Hypothesis& m_h;
  int m_id;
};

Slots::Slots(pipeline::Context& ctx, int count, const SlotExecutorFactory& make_executor) : m_ctx(ctx) {
  session::Session& s = ctx.session;
  const session::Paths& paths = s.paths();
  const std::string branch_ref = "refs/heads/" + s.branch();
  for (int k = 1; k <= count; ++k) {
    auto slot = std::make_unique<Slot>();
    Slot& x = *slot;
    x.number = k;
    x.ws = std::make_unique<session::Workspace>(s.repo(), paths, branch_ref, s.workspace().best(), k,
                                                s.workspace().harness());
    exec::SandboxLayout layout;
    layout.protect = {paths.repo_root, s.repo().git_dir(), paths.state_dir};
    layout.worktrees = {x.ws->side(0).path(), x.ws->side(1).path()};
    layout.tmp_root = paths.state_dir / "tmp" / fmt::format("slot-{}", k);
    layout.outbox = paths.state_dir / "proposal";
    x.sandbox = exec::Sandbox::make(s.config().sandbox, layout, paths.config);
    x.sandbox.prepare();
    x.executor = make_executor(&x.sandbox, &x.cancel);
    x.cfg = s.config();
    x.prep_ctx.reset(new pipeline::Context{s, *x.executor, ctx.faults, ctx.pinning});
    x.prep_ctx->slot_workspace = x.ws.get();
    x.prep_ctx->slot_sandbox = &x.sandbox;
    x.prep_ctx->slot_config = &x.cfg;
    x.prep_ctx->on_stage = [this, k](int id, const std::string& title, const std::string& stage) {
      set_stage(k, id, title, stage);
    };
    x.turn_ctx.reset(new pipeline::Context{s, *x.executor, ctx.faults, ctx.pinning});
    x.turn_ctx->slot_workspace = x.ws.get();
    x.turn_ctx->slot_sandbox = &x.sandbox;
    x.turn_ctx->on_stage = [this, k](int id, const std::string& title, const std::string& stage) {
      set_stage(k, id, title, stage);
      publish(false);
      if (id > 0) m_ctx.session.state().stage(stage);
      m_ctx.session.progress().stage(id, title, stage);
    };
    if (s.config().executor.pause_background) {
      x.turn_ctx->measuring = [this](bool on) {
        if (on) {
          m_pause.emplace();
        } else {
          m_pause.reset();
        }
      };
    }
    m_table.push_back({{"slot", k}, {"id", 0}, {"title", ""}, {"stage", "idle"}});
    m_slots.push_back(std::move(slot));
  }
  publish(true);
}

Slots::~Slots() {
  for (auto& slot : m_slots) slot->cancel = true;
  for (auto& slot : m_slots) {
    if (slot->prep.valid()) slot->prep.wait();
  }
  for (const Ahead& a : m_ahead) {
    std::error_code ec;
    fs::remove(m_ctx.session.paths().logs / fmt::format("{:04d}.log", a.id), ec);
  }
  for (auto& slot : m_slots) {
    try {
      slot->ws->restore();
    } catch (const std::exception& e) {
      m_ctx.session.progress().note(
          fmt::format("warning: could not reset slot {} ({}); the next run does", slot->number, e.what()));
    }
  }
  m_ctx.session.state().slots(nlohmann::json::array(), false);
}

journal::ExperimentRecord Slots::run(const sources::Hypothesis& h, int id, sources::Picker& picker,
                                     sources::SourceEnv& env, int ahead) {
  // Is it the one picked ahead? Otherwise what was picked ahead is not what a serial run picks next.
  Slot* mine = nullptr;
  bool matched = false;
  if (!m_ahead.empty()) {
    const Ahead& a = m_ahead.front();
    if (a.id == id && a.h.identity() == h.identity() && a.h.origin == h.origin) {
      mine = a.slot;
      matched = true;
      m_ahead.pop_front();
    } else {
      discard_ahead();
    }
  }
  if (!matched && !refused(h, id)) {
    mine = free_slot();
    start(*mine, h, id, false);
  }
  // The next queued hypotheses, prepared while this one is measured.
  std::set<std::string> in_flight{h.identity()};
  for (const Ahead& a : m_ahead) in_flight.insert(a.h.identity());
  int next = id + 1 + static_cast<int>(m_ahead.size());
  while (static_cast<int>(m_ahead.size()) < std::min(ahead, static_cast<int>(m_slots.size()) - 1)) {
    Slot* free = free_slot();
    if (free == nullptr) break;
    std::optional<sources::Hypothesis> n = picker.next_queued(env, next, in_flight);
    if (!n) break;
    in_flight.insert(n->identity());
    Ahead a{next, *n, nullptr};
    if (!refused(*n, next)) {
      start(*free, *n, next, false);
      a.slot = free;
    }
    m_ahead.push_back(std::move(a));
    ++next;
  }
  publish(true);

  Turn turn(*this, mine, h, id);
  journal::ExperimentRecord record = pipeline::run_experiment(m_ctx, h, id, &turn);
  if (Slot* used = turn.slot()) {
    used->busy = false;
    set_stage(used->number, 0, "", "idle");
    if (record.status == Status::keep) {
      // The slot's candidate worktree holds the new best, built: it becomes the slot's base.
      if (!m_ctx.cfg().build.command.empty()) {
        used->ws->swap_sides(m_ctx.cfg().protected_paths);
        used->sandbox.swap_worktrees();
      }
      // A keep moved the branch from this slot: the session's own pair follows (sources, calibration).
      m_ctx.session.workspace().follow(used->ws->best());
      restart_stale(used);
    }
  }
  publish(true);
  return record;
}

void Slots::quiesce() {
  for (auto& slot : m_slots) {
    if (slot->prep.valid()) slot->prep.wait();
  }
}

Slots::Slot* Slots::free_slot() {
  for (auto& slot : m_slots) {
    if (!slot->busy) return slot.get();
  }
  return nullptr;
}

void Slots::start(Slot& slot, const sources::Hypothesis& h, int id, bool again) {
  slot.busy = true;
  slot.id = id;
  slot.h = h;
  if (!again) slot.prepared_on.clear();
  slot.cancel = false;
  slot.cfg = m_ctx.session.config();
  slot.harness = m_ctx.session.workspace().harness();
  const git_oid best = m_ctx.session.workspace().best();
  slot.best = git::to_hex(best);
  set_stage(slot.number, id, h.title, again ? "queued again" : "queued");
  slot.prep = std::async(std::launch::async, [this, &slot, best] { return prepare(slot, best); });
}

// On the slot's thread: the slot's pair on `best` (its base built), then apply, build, gates.
Slots::Prep Slots::prepare(Slot& slot, const git_oid& best) {
  Prep p;
  p.best = git::to_hex(best);
  p.config = config::to_json(slot.cfg);
  p.harness = session::harness_json(slot.harness);
  p.part.run.id = slot.id;
  p.part.run.title = slot.h.title;
  pipeline::Context& c = *slot.prep_ctx;
  try {
    session::Workspace& ws = *slot.ws;
    if (session::harness_json(ws.harness()) != p.harness) ws.set_harness(slot.harness);
    if (git_oid_equal(&ws.best(), &best) == 0) {
      ws.follow(best);
    } else {
      ws.revert();
    }
    pipeline::ensure_base_built(c);
    c.stage(slot.id, slot.h.title, "apply");
    c.sandbox().clear_tmp(1);  // each candidate starts with an empty private /tmp
    p.end = pipeline::apply(c, slot.h, p.part);
    if (!p.end) {
      c.faults.point("apply");
      p.end = pipeline::build(c, p.part);
    }
    if (!p.end) p.end = pipeline::gates(c, p.part);
    c.stage(slot.id, slot.h.title, p.end ? "prepared (ended: " + std::string(journal::to_string(p.end->status)) + ")"
                                         : "prepared, waiting to be measured");
  } catch (...) {
    p.error = std::current_exception();
  }
  return p;
}

Slots::Prep Slots::wait_for(Slot& slot) {
  while (slot.prep.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) publish(true);
  return slot.prep.get();
}

void Slots::stop(Slot& slot, bool forget) {
  if (!slot.busy) return;
  slot.cancel = true;
  if (slot.prep.valid()) slot.prep.get();  // a Prep holds what was thrown: nothing escapes here
  slot.cancel = false;
  slot.ws->restore();
  if (forget) {
    std::error_code ec;
    fs::remove(m_ctx.session.paths().logs / fmt::format("{:04d}.log", slot.id), ec);
  }
  slot.busy = false;
  set_stage(slot.number, 0, "", "idle");
}

void Slots::restart_stale(Slot* keeper) {
  if (interrupted()) return;
  const std::string best = git::to_hex(m_ctx.session.workspace().best());
  for (Ahead& a : m_ahead) {
    if (a.slot == nullptr || a.slot->best == best) continue;
    Slot& from = *a.slot;
    // The first goes to the slot that kept, whose base is the new best, built.
    Slot& to = keeper != nullptr && !keeper->busy ? *keeper : from;
    std::vector<std::string> prepared_on = std::move(from.prepared_on);
    prepared_on.push_back(from.best);
    const std::string why =
        fmt::format("==> {} the best is now {} (it was being prepared on {}): apply, build and gates again{}\n",
                    util::utc_now_iso(), best.substr(0, 12), from.best.substr(0, 12),
                    &to == &from ? std::string() : fmt::format(" (in slot {})", to.number));
    stop(from, false);
    std::ofstream(m_ctx.session.paths().logs / fmt::format("{:04d}.log", a.id), std::ios::app) << why;
    to.prepared_on = std::move(prepared_on);
    start(to, a.h, a.id, true);
    a.slot = &to;
    if (&to == keeper) keeper = nullptr;
  }
}

void Slots::discard_ahead() {
  for (Ahead& a : m_ahead) {
    if (a.slot != nullptr) stop(*a.slot, true);
  }
  m_ahead.clear();
}

bool Slots::refused(const sources::Hypothesis& h, int id) {
  journal::ExperimentRecord scratch;
  scratch.run.id = id;
  return pipeline::screen(m_ctx, h, scratch).has_value();
}

void Slots::set_stage(int slot, int id, const std::string& title, const std::string& stage) {
  std::lock_guard<std::mutex> lock(m_table_mutex);
  m_table[static_cast<size_t>(slot - 1)] = {{"slot", slot}, {"id", id}, {"title", title}, {"stage", stage}};
}

void Slots::publish(bool write) {
  nlohmann::json table;
  {
    std::lock_guard<std::mutex> lock(m_table_mutex);
    table = m_table;
  }
  const bool changed = table != m_published;
  m_published = table;
  m_ctx.session.state().slots(table, write && changed);
}

}  // namespace ar::app
