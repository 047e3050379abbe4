#include "cli/read_view.hpp"

#include "git/git.hpp"

namespace ar::cli {

ReadView read_view(const std::filesystem::path& config_path) {
  ReadView r;
  r.cfg = config::load(config_path);
  git::Repository repo = git::Repository::discover(std::filesystem::absolute(config_path).parent_path());
  r.paths = session::Paths::make(r.cfg, repo.workdir());
  r.view = journal::load_view(r.paths.journal, r.cfg.session, r.warnings, false,
                              r.paths.state_dir / journal::k_index_file, journal::Keep::summaries);
  return r;
}

}  // namespace ar::cli
