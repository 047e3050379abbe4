#include "cli/commands.hpp"

#include "config/config.hpp"
#include "git/git.hpp"
#include "session/cleanup.hpp"
#include "session/paths.hpp"
#include "session/state.hpp"
#include "session/workspace.hpp"
#include "util/error.hpp"

#include <memory>
#include <optional>
#include <regex>

#include <fmt/format.h>

namespace ar::cli {

namespace fs = std::filesystem;

int run_clean(const CleanOptions& options) {
  config::Config cfg = config::load(options.config);
  const std::string session = options.session.empty() ? cfg.session : options.session;
  if (!std::regex_match(session, std::regex("[A-Za-z0-9._-]+"))) {
    throw ConfigError(fmt::format("--session {}: a session name is made of letters, digits, '.', '_' and '-'", session));
  }
  git::Repository repo = git::Repository::discover(fs::absolute(options.config).parent_path());
  session::Paths paths = session::Paths::make(cfg, repo.workdir());
  std::vector<std::string> done;
  std::error_code ec;
  const bool had_state = fs::exists(paths.state_dir, ec);
  {
    // Refuses while a run holds it; held until everything is removed, so no run starts meanwhile.
    std::optional<session::RunLock> lock;
    try {
      lock.emplace(paths);
    } catch (const Error& e) {
      throw Error(fmt::format("clean refused: {}", e.what()));
    }
    if (session::Workspace::remove(repo, paths)) done.push_back("removed the worktrees");
    session::remove_state(paths);
    if (options.delete_branch) {
      const std::string ref = session::branch_ref_of(session);
      if (repo.resolve(ref)) {
        repo.delete_ref(ref);
        done.push_back("deleted the branch autoresearch/" + session);
      }
      const fs::path archive = paths.root / fmt::format("results.{}.jsonl", session);
      int moved = session::archive_session(paths.journal, archive, session);
      if (moved > 0) {
        done.push_back(fmt::format("moved {} line(s) of session {} from {} to {}", moved, session,
                                   paths.journal.filename().string(), archive.filename().string()));
      }
    }
  }
  fs::remove(paths.lock_file, ec);
  fs::remove(paths.state_dir, ec);  // only when empty: a file someone put there meanwhile stays
  if (had_state) done.push_back("removed the state folder " + paths.state_dir.filename().string() + "/");
  if (done.empty()) done.push_back("nothing to clean");
  for (const std::string& line : done) fmt::print("{}\n", line);
  if (!options.delete_branch) {
    fmt::print("the branch autoresearch/{} and its records in {} stay (--delete-branch removes them)\n", session,
               paths.journal.filename().string());
  }
  return k_exit_ok;
}

void setup_clean(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<CleanOptions>();
  CLI::App* sub = app.add_subcommand(
      "clean", "Remove the session's worktrees and state (.autoresearch/); refused while a run is going");
  sub->add_option("-c,--config", opt->config, "Config file")->capture_default_str();
  sub->add_option("--session", opt->session, "Session to clean (default: the config's)");
  sub->add_flag("--delete-branch", opt->delete_branch,
                "Also delete the branch autoresearch/<session> and move the session's records out of results.jsonl "
                "into results.<session>.jsonl");
  sub->callback([opt, &exit_code]() { exit_code = run_clean(*opt); });
}

}  // namespace ar::cli
