#pragma once
// Internal to cli/: what the commands that only read a session (status, report, show, verify
// --json) start from. The journal is read without repairs (a run may be appending right now),
// summaries only, through the summary index.

#include "config/config.hpp"
#include "journal/journal.hpp"
#include "session/paths.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ar::cli {

struct ReadView {
  config::Config cfg;
  session::Paths paths;
  std::vector<std::string> warnings;  // the journal's, for the caller to show
  journal::SessionView view;
};

ReadView read_view(const std::filesystem::path& config_path);

}  // namespace ar::cli
