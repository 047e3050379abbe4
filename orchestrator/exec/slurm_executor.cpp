#include "exec/slurm_executor.hpp"

#include "exec/slurm_cli.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ar::exec {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

json read_jobs(const fs::path& file) {
  std::optional<std::string> text = util::read_file(file);
  if (!text) return json{{"jobs", json::array()}};
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.contains("jobs") || !j["jobs"].is_array()) {
    throw Error(fmt::format("{}: not a Slurm job list (remove it after cancelling its jobs by hand)", file.string()));
  }
  return j;
}

std::string quote(const std::string& s) {  // for a /bin/sh script
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A Slurm state as the reason a run was lost.
std::string describe_state(const slurm::JobState& st) {
  std::string why;
  if (st.state == "CANCELLED") {
    why = "was cancelled by scancel or an administrator";
  } else if (st.state == "TIMEOUT" || st.state == "DEADLINE") {
    why = "reached its time limit";
  } else if (st.state == "NODE_FAIL") {
    why = "lost its node";
  } else if (st.state == "BOOT_FAIL") {
    why = "could not boot its node";
  } else if (st.state == "OUT_OF_MEMORY") {
    why = "ran out of memory";
  } else if (st.state == "PREEMPTED") {
    why = "was preempted";
  } else if (st.state == "FAILED") {
    why = "failed";
  } else {
    why = "ended";
  }
  std::string detail = st.state;
  if (!st.reason.empty() && st.reason != "None") detail += ", reason " + st.reason;
  if (!st.exit_code.empty() && st.exit_code != "0:0") detail += ", exit " + st.exit_code;
  return fmt::format("{} ({})", why, detail);
}

// Cancels `job` and waits (at most 30 s) until Slurm says it has ended: its runs work in the
// session's worktrees, which the loop restores next.
void cancel_and_wait(const std::string& job) {
  slurm::cancel(job);
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < until) {
    const slurm::JobState st = slurm::query(job);
    if (!st.known || st.terminal()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmOptions options) : m_options(std::move(options)), m_local(m_options.local) {
  // Several executors share a run (executor slots): their job names differ by this.
  std::random_device rd;
  m_instance = fmt::format("{:04x}", rd() & 0xffffu);
  fs::create_directories(m_options.workdir);
  fs::create_directories(m_options.jobs_file.parent_path());
  recover();
}

void SlurmExecutor::note(const std::string& text) const {
  if (m_options.note) m_options.note(text);
}

void SlurmExecutor::remember(const Job& job, int experiment) {
  json j = read_jobs(m_options.jobs_file);
  json& jobs = j["jobs"];
  bool found = false;
  for (json& e : jobs) {
    if (e.value("name", "") == job.name) {
      e["id"] = job.id;
      found = true;
    }
  }
  if (!found)
    jobs.push_back({{"id", job.id}, {"name", job.name}, {"folder", job.folder.string()}, {"experiment", experiment}});
  util::write_file_atomic(m_options.jobs_file, j.dump(2) + "\n");
}

void SlurmExecutor::forget(const Job& job) {
  json j = read_jobs(m_options.jobs_file);
  json kept = json::array();
  for (const json& e : j["jobs"]) {
    if (e.value("name", "") != job.name) kept.push_back(e);
  }
  j["jobs"] = kept;
  util::write_file_atomic(m_options.jobs_file, j.dump(2) + "\n");
}

void SlurmExecutor::recover() {
  json j = read_jobs(m_options.jobs_file);
  if (j["jobs"].empty()) return;
  // The experiment they measured is recorded as interrupted by the session's own recovery: their
  // results have no record to go to, so every job still queued or running is cancelled, and the
  // next run waits until they are gone (they run in the session's worktrees).
  for (const json& e : j["jobs"]) {
    const std::string id = e.value("id", "");
    const std::string name = e.value("name", "");
    slurm::JobState st = id.empty() ? slurm::JobState{} : slurm::query(id);
    if (id.empty() || !st.terminal()) {
      if (id.empty()) {
        const bool ok = slurm::cancel_named(name);
        note(fmt::format("slurm: cancelled the jobs named {} of the previous run (experiment {}){}", name,
                         e.value("experiment", 0), ok ? "" : " (scancel failed)"));
      } else {
        cancel_and_wait(id);
        note(fmt::format("slurm: cancelled job {} of the previous run (experiment {})", id, e.value("experiment", 0)));
      }
    } else {
      note(fmt::format("slurm: job {} of the previous run (experiment {}) had ended ({}); its results are dropped", id,
                       e.value("experiment", 0), st.state));
    }
  }
  util::write_file_atomic(m_options.jobs_file, json{{"jobs", json::array()}}.dump(2) + "\n");
}

CommandResult SlurmExecutor::run(const Command& command) {
  if (command.kind != Kind::benchmark) return m_local.run(command);
  CommandResult out;
  run_batch({command}, [&out](std::size_t, CommandResult& r) {
    out = std::move(r);
    return false;
  });
  return out;
}

SlurmExecutor::Job SlurmExecutor::submit(const std::vector<Command>& commands) {
  const int experiment = commands.front().experiment;
  Job job;
  job.name =
      fmt::format("ar-{:04d}-{}-{}-{}", experiment, m_options.local.token.substr(0, 6), m_instance, ++m_sequence);
  job.folder = m_options.workdir / job.name;
  fs::remove_all(job.folder);
  fs::create_directories(job.folder);

  BlockSpec spec;
  spec.session = m_options.local.session;
  // A token of the job's own: its runs' strays are the runner's to stop, and a killed loop's
  // successor stops the job with scancel, not by scanning this machine for the session's token.
  spec.token = m_options.local.token + "-" + job.name;
  spec.experiment = experiment;
  if (m_options.local.shell) spec.shell = m_options.local.shell();
  if (m_options.local.repeat) spec.repeat = m_options.local.repeat();
  if (m_options.local.max_log_mb) spec.max_log_mb = m_options.local.max_log_mb();
  spec.sandbox = m_options.sandbox;
  // The worktrees as they are now: a slot's two change roles after a keep (Sandbox::swap_worktrees).
  spec.layout = m_options.local.sandbox != nullptr ? m_options.local.sandbox->layout() : m_options.layout;
  spec.config_file = m_options.config_file;
  spec.commands = commands;
  write_spec(job.folder, spec);
  const fs::path script = job.folder / "job.sh";
  util::write_file_atomic(script,
                          fmt::format("#!/bin/sh\n# autoresearch: one block of benchmark runs\nexec {} exec-block {}\n",
                                      quote(m_options.self.string()), quote(job.folder.string())),
                          false);
  fs::permissions(script, fs::perms::owner_all, fs::perm_options::add);

  std::vector<std::string> args{"--job-name=" + job.name,
                                "--output=" + (job.folder / "slurm.out").string(),
                                "--chdir=" + job.folder.string(),
                                "--no-requeue",
                                "--nodes=1",
                                "--ntasks=1"};
  if (!m_options.partition.empty()) args.push_back("--partition=" + m_options.partition);
  // Every look of one experiment on the node of its first: both sides, all pairs, one machine.
  auto node = m_node_of.find(experiment);
  if (node != m_node_of.end() && experiment > 0) args.push_back("--nodelist=" + node->second);
  std::chrono::milliseconds total{0};
  bool limited = true;
  for (const Command& c : commands) {
    if (c.timeout.count() <= 0) limited = false;
    total += c.timeout;
  }
  if (limited) {
    // Slurm's limit is in minutes; the runs' own deadlines come first, this is the backstop.
    const long long minutes = (std::chrono::duration_cast<std::chrono::seconds>(total).count() + 60 + 59) / 60;
    args.push_back(fmt::format("--time={}", minutes));
  }
  args.insert(args.end(), m_options.sbatch_args.begin(), m_options.sbatch_args.end());
  remember(job, experiment);  // before sbatch: a job whose id was never learned is found by name
  slurm::Submitted s = slurm::submit(args, script);
  if (s.job.empty()) {
    job.error = s.error;
    forget(job);
    return job;
  }
  job.id = s.job;
  remember(job, experiment);
  return job;
}

SlurmExecutor::Ending SlurmExecutor::follow(const Job& job, const std::vector<Command>& commands) {
  Ending end;
  std::chrono::milliseconds budget{0};
  bool limited = true;
  for (const Command& c : commands) {
    if (c.timeout.count() <= 0) limited = false;
    budget += c.timeout;
  }
  std::optional<Clock::time_point> deadline;
  auto last_query = Clock::now();
  slurm::JobState st;
  int failed_queries = 0;
  while (true) {
    if (std::optional<BlockResult> r = read_result(job.folder)) {
      end.started = true;
      end.node = r->node;
      if (!r->complete) {
        // The runner was stopped by a signal: ask Slurm why (it knows once the job has ended).
        const auto until = Clock::now() + std::chrono::seconds(15);
        do {
          st = slurm::query(job.id);
          if (st.terminal()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        } while (Clock::now() < until);
        end.lost = fmt::format("slurm job {} on node {} {}", job.id, r->node,
                               st.known ? describe_state(st) : fmt::format("was stopped by signal {}", r->signal));
        end.timed_out = st.state == "TIMEOUT";
      }
      end.result = std::move(r);
      return end;
    }
    if (!end.started) {
      if (std::optional<BlockStart> s = read_started(job.folder)) {
        end.started = true;
        end.node = s->node;
        if (limited) deadline = Clock::now() + budget + std::chrono::seconds(60);
      }
    }
    if (interrupted()) {
      cancel_and_wait(job.id);
      end.interrupted = true;
      return end;
    }
    if (deadline && Clock::now() > *deadline) {
      cancel_and_wait(job.id);
      end.timed_out = true;
      end.lost = fmt::format("slurm job {} on node {} outlived its runs' timeouts ({:.0f}s) and was cancelled", job.id,
                             end.node, std::chrono::duration<double>(budget).count());
      return end;
    }
    if (Clock::now() - last_query >= m_options.query_every) {
      last_query = Clock::now();
      st = slurm::query(job.id);
      // scontrol failing (a busy or restarting controller) is not the job's end: ask again, for
      // a minute at most.
      const bool answered = st.known || st.invalid || ++failed_queries >= 60;
      if (st.known) failed_queries = 0;
      if (answered && (!st.known || st.terminal())) {
        // Ended without a result: once more for the result (a runner that finished just now).
        if (read_result(job.folder)) continue;
        if (!end.started && read_started(job.folder)) end.started = true;
        if (st.node.size() > 0) end.node = st.node;
        end.lost = st.known ? fmt::format("slurm job {}{} {}", job.id, end.node.empty() ? "" : " on node " + end.node,
                                          describe_state(st))
                   : st.invalid ? fmt::format("slurm job {} is unknown to Slurm ({})", job.id, st.error)
                                : fmt::format("slurm job {} could not be followed: scontrol failed for a minute ({})",
                                              job.id, st.error);
        end.timed_out = st.state == "TIMEOUT" || st.state == "DEADLINE";
        if (!end.started) end.lost += ", before it started";
        return end;
      }
    }
    std::this_thread::sleep_for(m_options.poll);
  }
}

void SlurmExecutor::collect(const Job& job, const std::vector<Command>& commands, const Ending& end) {
  // The runs' output joins the experiment's log, as a local run's does.
  const fs::path log = m_local.log_of(commands.front().experiment);
  {
    std::ofstream out(log, std::ios::app);
    out << fmt::format("==> {} slurm job {} on node {}: {} runs{}\n", util::utc_now_iso(), job.id,
                       end.node.empty() ? "?" : end.node, end.result ? end.result->results.size() : 0,
                       end.lost.empty() ? "" : "; " + end.lost);
    for (std::size_t i = 0; i < commands.size(); ++i) {
      std::ifstream in(run_log_path(job.folder, i), std::ios::binary);
      if (in) out << in.rdbuf();
    }
    std::ifstream runner(job.folder / "slurm.out", std::ios::binary);
    if (runner && runner.peek() != std::ifstream::traits_type::eof())
      out << "==> the job's own output:\n" << runner.rdbuf();
  }
  forget(job);
  // A job that went wrong keeps its folder for a look; a good one leaves nothing.
  if (end.lost.empty() && !end.interrupted) {
    std::error_code ec;
    fs::remove_all(job.folder, ec);
  }
}

void SlurmExecutor::run_batch(const std::vector<Command>& commands,
                              const std::function<bool(std::size_t, CommandResult&)>& take) {
  if (commands.empty()) return;
  for (const Command& c : commands) {
    if (c.kind != Kind::benchmark) return Executor::run_batch(commands, take);
  }
  const int experiment = commands.front().experiment;
  if (m_node_of.size() > 16) m_node_of.clear();
  std::vector<std::string> never_started;
  for (int attempt = 1;; ++attempt) {
    auto lost = [&](std::size_t index, const std::string& why, bool timed_out, const std::string& node,
                    const std::string& job) {
      CommandResult r;
      r.process.ending = timed_out ? proc::Ending::timed_out : proc::Ending::failed_to_start;
      r.process.error = why;
      r.lost = why;
      r.node = node;
      r.job = job;
      (void)take(index, r);
    };
    if (interrupted()) {
      CommandResult r;
      r.process.ending = proc::Ending::interrupted;
      (void)take(0, r);
      return;
    }
    Job job = submit(commands);
    if (!job.error.empty()) return lost(0, "sbatch failed: " + job.error, false, "", "");
    Ending end = follow(job, commands);
    collect(job, commands, end);
    if (!end.node.empty() && experiment > 0) m_node_of.emplace(experiment, end.node);
    if (end.interrupted) {
      CommandResult r;
      r.process.ending = proc::Ending::interrupted;
      r.job = job.id;
      r.node = end.node;
      (void)take(0, r);
      return;
    }
    if (!end.started && !end.lost.empty() && attempt == 1) {
      never_started.push_back(job.id);
      note(fmt::format("slurm: {}; submitting it once more", end.lost));
      continue;
    }
    std::size_t handed = 0;
    if (end.result) {
      // A result cut short by a signal ends with the run it stopped: that one is lost, not done.
      std::vector<CommandResult>& results = end.result->results;
      if (!end.result->complete && !results.empty()) results.pop_back();
      for (CommandResult& r : results) {
        r.node = end.result->node;
        r.job = job.id;
        if (!take(handed++, r)) return;
      }
      if (end.result->complete) return;  // every run, or up to the failed one that ended the block
    }
    if (handed >= commands.size()) return;
    std::string why = end.lost.empty() ? fmt::format("slurm job {} returned no result", job.id) : end.lost;
    if (!never_started.empty()) why += fmt::format(" (job {} before it never started)", never_started.front());
    return lost(handed, why, end.timed_out, end.node, job.id);
  }
}

}  // namespace ar::exec
