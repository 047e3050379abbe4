// The patch queue (experiments/*.patch in name order) and the sweeps: both walk a fixed list and
// return the first entry the journal has no final record of.

#include "sources/queue.hpp"
#include "sources/source.hpp"
#include "sources/sweep.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

namespace ar::sources {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t k_max_patch_bytes = 100u << 20;

// Interrupted too often: the hypothesis itself may be what kills the run.
bool retried_out(const journal::SessionView& view, const std::string& key, int retry_interrupted) {
  auto it = view.interrupted_count.find(key);
  return it != view.interrupted_count.end() && it->second > retry_interrupted;
}

class QueueSource : public Source {
 public:
  config::SourceKind kind() const override { return config::SourceKind::queue; }

  std::optional<Hypothesis> next(SourceEnv& env, int) override {
    const session::Paths& paths = env.session.paths();
    const journal::SessionView& view = env.session.view();
    int retries = env.session.config().limits.retry_interrupted;
    for (const fs::path& file : queue_files(paths.queue)) {
      std::string origin = file.lexically_relative(paths.root).generic_string();
      std::error_code ec;
      std::uintmax_t size = fs::file_size(file, ec);
      if (!ec && size > k_max_patch_bytes) {
        // Not even read: it is rejected by its size, and known by its name and size from then on.
        Hypothesis h;
        h.origin = origin;
        h.title = title_from_filename(file);
        h.patch_sha256 = util::sha256_hex(fmt::format("oversized:{}:{}", origin, size));
        if (view.find_by_key(h.patch_sha256) != nullptr) continue;
        if (env.in_flight != nullptr && env.in_flight->count(h.identity()) != 0) continue;
        h.ended = Hypothesis::Ended{journal::Status::rejected, fmt::format("patch is {} bytes, over the {} MB limit",
                                                                           size, k_max_patch_bytes >> 20)};
        return h;
      }
      std::optional<std::string> text = util::read_file(file);
      if (!text) {
        env.session.progress().note(fmt::format("warning: {}: cannot read; skipped", file.string()));
        continue;
      }
      Hypothesis h = parse_patch_text(*text, origin);
      // Tried from this very file: done. Tried under another name: screening calls it a duplicate.
      if (view.find_by_key(h.patch_sha256) != nullptr && view.recorded_from(h.patch_sha256, origin)) continue;
      if (retried_out(view, h.patch_sha256, retries)) continue;
      if (env.in_flight != nullptr && env.in_flight->count(h.identity()) != 0) continue;
      return h;
    }
    return std::nullopt;
  }
};

class SweepSource : public Source {
 public:
  config::SourceKind kind() const override { return config::SourceKind::sweeps; }

  std::optional<Hypothesis> next(SourceEnv& env, int) override {
    const config::Config& cfg = env.session.config();
    const journal::SessionView& view = env.session.view();
    session::Workspace& ws = env.session.workspace();
    for (const config::Sweep& sw : cfg.sources.sweeps) {
      for (const std::string& value : sw.values) {
        std::string key = sweep_key(sw.name, value);
        if (view.find_by_key(key) != nullptr || retried_out(view, key, cfg.limits.retry_interrupted)) continue;
        Hypothesis h;
        h.source = "sweep";
        h.origin = "sweep:" + sw.name;
        h.key = key;
        h.patch_sha256 = util::sha256_hex(key);
        h.asi["key"] = key;
        h.asi["sweep"] = sw.name;
        h.asi["value"] = value;
        h.title = fmt::format("{} = {}", sw.name, value);
        h.mechanism = sw.mechanism;
        h.idea = sw.idea;
        fs::path file = ws.side(1).path() / sw.file;
        std::optional<std::string> text = util::read_file(file);
        if (!text) {
          h.ended =
              Hypothesis::Ended{journal::Status::rejected, fmt::format("sweep {}: cannot read {}", sw.name, sw.file)};
          return h;
        }
        SweepEdit edit = apply_sweep(*text, sw.pattern, value);
        if (!edit.found) {
          h.ended = Hypothesis::Ended{journal::Status::rejected, fmt::format("sweep {}: pattern {} not found in {}",
                                                                             sw.name, sw.pattern, sw.file)};
          return h;
        }
        h.asi["from"] = edit.current;
        h.hypothesis =
            fmt::format("{} from {} to {} in {} moves {}", sw.name, edit.current, value, sw.file, cfg.metric.name);
        if (edit.current == value) continue;  // the value in force is the sweep's baseline: nothing to try
        util::write_file_atomic(file, edit.text, false);  // taken back as a diff at once
        bool made_commits = false;
        h.patch = ws.take_edit(made_commits);
        return h;
      }
    }
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Source> make_queue_source() {
  return std::make_unique<QueueSource>();
}
std::unique_ptr<Source> make_sweep_source() {
  return std::make_unique<SweepSource>();
}

}  // namespace ar::sources
