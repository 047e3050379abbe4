#pragma once
// The proposer's context (DESIGN §6): what an agent or script needs to propose the next change,
// as JSON (for scripts) and the same content as Markdown (for agents).

#include "config/config.hpp"
#include "ideas/ideas.hpp"
#include "journal/journal.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ar::sources {

// The most dead ends the context lists (the latest ones); the catalogue file has them all.
inline constexpr std::size_t k_context_dead_ends = 50;
// The most imported runs (autoresearch import) the context lists (the latest ones).
inline constexpr std::size_t k_context_imported = 50;

// goal, metric and direction, baseline and best (with the CI of the last keep), the last
// `cfg.sources.proposer.recent` experiments, open ideas with ids, the latest k_context_dead_ends
// dead ends and the dead-ends catalogue as given (pass report::render_dead_ends with the same
// limit), protected paths and scope, and the notes file's text when configured. Its size does not
// grow with the journal.
nlohmann::json proposer_context(const config::Config& cfg, const journal::SessionView& view,
                                const std::vector<ideas::Idea>& ideas, const std::string& dead_ends_markdown,
                                const std::string& notes);

std::string context_markdown(const nlohmann::json& context);

}  // namespace ar::sources
