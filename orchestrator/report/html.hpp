#pragma once
// reports/report.html (issue 13): the trajectory of the best value, each experiment's effect with
// its 95% CI coloured by status, each sweep's value against its effect (best and knee marked), the
// samples of every kept experiment as strip plots, and a sortable table of all experiments. One
// self-contained file, from the journal alone.

#include "config/config.hpp"
#include "journal/journal.hpp"

#include <filesystem>
#include <string>

namespace ar::report {

std::string render_html(const journal::SessionView& view, const config::Config& cfg);
void write_html(const journal::SessionView& view, const config::Config& cfg, const std::filesystem::path& dir);

}  // namespace ar::report
