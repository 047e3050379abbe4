#pragma once
// Executor slots (config `executor.slots` > 1): the apply, build and gates of the next queued
// hypotheses run ahead, each in its own slot (a worktree pair .autoresearch/slot-K/{base,cand}, a
// sandbox and an executor of its own, one thread), while the current experiment is measured.
//
// What a serial run would do is kept exactly:
//  - the run loop still picks each experiment at its turn, as a serial run does; a hypothesis
//    picked ahead is used only when it is that pick (same patch, same file, same id), otherwise
//    everything picked ahead is dropped. Only the queue is picked ahead (Picker::next_queued).
//  - a preparation is used only when it ran on the best commit and the config in force at the
//    experiment's turn; otherwise it runs again: apply, build and gates on the new best. After a
//    keep that happens at once (what ran on the old best is stopped), the first of them in the
//    slot that kept, whose two worktrees swapped roles so that its base is the kept candidate's
//    built tree. The record's `slot.prepared_on` lists every best it was prepared on.
//  - the journal, the state file, the console and every measurement stay on the loop's thread,
//    and one experiment is measured at a time, against the current best.
// Slot threads only touch their own worktrees, executor and a snapshot of the config, and report
// their stage to a table the loop's thread writes into the state file (`status` shows it).
//
// What was picked ahead and not yet at its turn is never recorded: on a stop, an interrupt or a
// kill its commands are stopped and its worktrees reset, and the next run picks it again.

#include "app/commands.hpp"
#include "exec/sandbox.hpp"
#include "pipeline/experiment.hpp"
#include "proc/subprocess.hpp"
#include "sources/source.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace ar::app {

class Slots {
 public:
  // Opens (or recreates) `count` slots, clean at the best commit.
  Slots(pipeline::Context& ctx, int count, const SlotExecutorFactory& make_executor);
  // Stops what runs in the slots, waits for their threads, resets their worktrees. Never throws.
  ~Slots();
  Slots(const Slots&) = delete;
  Slots& operator=(const Slots&) = delete;

  // Runs experiment `id` (`h`, as the loop picked it) to its record; before it is measured, picks
  // up to `ahead` more queued hypotheses and starts their preparation in free slots.
  journal::ExperimentRecord run(const sources::Hypothesis& h, int id, sources::Picker& picker,
                                sources::SourceEnv& env, int ahead);
  // Waits until no slot is working (before a calibration, which measures).
  void quiesce();

 private:
  struct Slot;
  struct Prep;
  struct Ahead {
    int id = 0;
    sources::Hypothesis h;
    Slot* slot = nullptr;  // null: screening refuses it, nothing to prepare
  };
  class Turn;

  Slot* free_slot();
  void start(Slot& slot, const sources::Hypothesis& h, int id, bool again);
  Prep prepare(Slot& slot, const git_oid& best);
  Prep wait_for(Slot& slot);
  // Stops a slot's work, waits for it and frees the slot; `forget` removes its log (never recorded).
  void stop(Slot& slot, bool forget);
  void discard_ahead();
  // After a keep: stops every preparation picked ahead on an older best now rather than at its
  // turn, and starts it again on the new best; the first in `keeper` (the slot that kept, idle,
  // its base the new best, built) when it can.
  void restart_stale(Slot* keeper);
  bool refused(const sources::Hypothesis& h, int id);
  void set_stage(int slot, int id, const std::string& title, const std::string& stage);
  void publish(bool write);

  pipeline::Context& m_ctx;
  std::vector<std::unique_ptr<Slot>> m_slots;
  std::deque<Ahead> m_ahead;
  std::mutex m_table_mutex;
  nlohmann::json m_table = nlohmann::json::array();
  nlohmann::json m_published;
  std::optional<proc::PauseOthers> m_pause;  // while a candidate is measured (executor.background: pause)
};

}  // namespace ar::app
