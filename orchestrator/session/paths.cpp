#include "session/paths.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

namespace ar::session {

namespace fs = std::filesystem;

Paths Paths::make(const config::Config& cfg, const fs::path& repo_root) {
  Paths p;
  p.repo_root = fs::weakly_canonical(repo_root);
  p.config = fs::weakly_canonical(fs::absolute(cfg.path));
  p.root = p.config.parent_path();
  fs::path rel = p.root.lexically_relative(p.repo_root);
  if (rel.empty() || *rel.begin() == "..") {
    throw ConfigError(
        fmt::format("{}: the config must live inside the repository at {}", cfg.path.string(), p.repo_root.string()));
  }
  p.rel_root = rel == "." ? fs::path() : rel;
  p.journal = p.root / "results.jsonl";
  p.ideas = p.root / "ideas.md";
  p.reports = p.root / "reports";
  p.queue = p.root / cfg.sources.queue.dir;
  p.state_dir = p.repo_root / ".autoresearch";
  p.logs = p.state_dir / "logs";
  p.patches = p.state_dir / "patches";
  p.base_wt = p.state_dir / "wt" / "base";
  p.cand_wt = p.state_dir / "wt" / "cand";
  p.state_file = p.state_dir / "state.json";
  p.lock_file = p.state_dir / "lock";
  return p;
}

}  // namespace ar::session
