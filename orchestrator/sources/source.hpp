#pragma once
// Hypothesis sources (DESIGN §6) behind one interface, and the picker that asks them in the
// configured order. A source returns the next untried hypothesis, or std::nullopt when it has
// nothing more; what a source already knows about the outcome goes in Hypothesis::ended, never in
// asi flags.
//
// The sweep and proposer sources edit the candidate worktree and take the edit back as a patch:
// they leave the candidate clean at the best commit.

#include "config/config.hpp"
#include "exec/executor.hpp"
#include "session/session.hpp"
#include "sources/patch_file.hpp"

#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace ar::sources {

// What sources may use: the session (config, view, worktrees) and the executor (the proposer).
struct SourceEnv {
  session::Session& session;
  exec::Executor& executor;
  // Hypotheses already picked ahead and not yet recorded (executor slots): the queue skips them.
  const std::set<std::string>* in_flight = nullptr;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual config::SourceKind kind() const = 0;
  // `id` is the id the experiment will get. Throws ar::Interrupted when stopped mid-way.
  virtual std::optional<Hypothesis> next(SourceEnv& env, int id) = 0;
};

std::unique_ptr<Source> make_queue_source();
std::unique_ptr<Source> make_sweep_source();
std::unique_ptr<Source> make_proposer_source();

// Asks the sources in cfg.sources.order, skipping switched-off ones; links the hypothesis to an
// idea. The plateau rule and the proposer's idle rule switch sources off for the rest of the run.
class Picker {
 public:
  Picker();
  std::optional<Hypothesis> next(SourceEnv& env, int id);
  // Executor slots: the next queued patch after those in `in_flight` (identities), when the queue
  // is the first source in force; std::nullopt otherwise. Only the queue is picked ahead: its
  // patches do not depend on the best commit, and reading it changes nothing (a sweep edits the
  // worktree at the best, and a proposer sees the context of the moment it runs).
  std::optional<Hypothesis> next_queued(SourceEnv& env, int id, const std::set<std::string>& in_flight);
  void disable(config::SourceKind kind) { m_disabled.insert(kind); }
  config::SourceKind last() const { return m_last; }

 private:
  std::vector<std::unique_ptr<Source>> m_sources;
  std::set<config::SourceKind> m_disabled;
  config::SourceKind m_last = config::SourceKind::queue;
};

// An idea is linked by the hypothesis itself (Idea: header, sweep idea, proposal) or by the idea
// naming the patch file or the sweep.
void link_idea(Hypothesis& h, const std::filesystem::path& ideas_file);

}  // namespace ar::sources
