#include "sources/source.hpp"

#include "ideas/ideas.hpp"

namespace ar::sources {

namespace fs = std::filesystem;

Picker::Picker() {
  m_sources.push_back(make_queue_source());
  m_sources.push_back(make_sweep_source());
  m_sources.push_back(make_proposer_source());
}

std::optional<Hypothesis> Picker::next(SourceEnv& env, int id) {
  for (config::SourceKind kind : env.session.config().sources.order) {
    if (m_disabled.count(kind) != 0) continue;
    for (auto& source : m_sources) {
      if (source->kind() != kind) continue;
      std::optional<Hypothesis> h = source->next(env, id);
      if (!h) break;
      m_last = kind;
      link_idea(*h, env.session.paths().ideas);
      return h;
    }
  }
  return std::nullopt;
}

std::optional<Hypothesis> Picker::next_queued(SourceEnv& env, int id, const std::set<std::string>& in_flight) {
  for (config::SourceKind kind : env.session.config().sources.order) {
    if (m_disabled.count(kind) != 0) continue;
    if (kind != config::SourceKind::queue) return std::nullopt;
    for (auto& source : m_sources) {
      if (source->kind() != kind) continue;
      SourceEnv ahead = env;
      ahead.in_flight = &in_flight;
      std::optional<Hypothesis> h = source->next(ahead, id);
      if (h) link_idea(*h, env.session.paths().ideas);
      return h;
    }
  }
  return std::nullopt;
}

void link_idea(Hypothesis& h, const fs::path& ideas_file) {
  if (!h.idea.empty()) return;
  std::string needle =
      h.source == "sweep" ? "sweep " + h.asi.value("sweep", "") : fs::path(h.origin).filename().string();
  if (needle.empty() || needle == "proposer") return;
  for (const auto& idea : ideas::read_ideas(ideas_file)) {
    if (!idea.id.empty() && idea.text.find(needle) != std::string::npos) {
      h.idea = idea.id;
      return;
    }
  }
}

}  // namespace ar::sources
