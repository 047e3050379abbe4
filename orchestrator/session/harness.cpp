#include "session/harness.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

namespace ar::session {

namespace fs = std::filesystem;

std::vector<HarnessFile> read_harness(const config::Config& cfg, const fs::path& repo_root) {
  std::vector<HarnessFile> out;
  for (std::size_t i = 0; i < cfg.harness.size(); ++i) {
    const config::HarnessFile& h = cfg.harness[i];
    const fs::path source = repo_root / h.path;
    auto fail = [&](const std::string& why) {
      return ConfigError(fmt::format("{}:{}: harness[{}]: {} {}", cfg.path.string(), h.line, i, h.path, why));
    };
    std::error_code ec;
    const fs::file_status st = fs::status(source, ec);
    if (!fs::exists(st)) throw fail(fmt::format("does not exist in {}", repo_root.string()));
    if (!fs::is_regular_file(st)) throw fail("is not a regular file (list the files of a folder one by one)");
    std::optional<std::string> content = util::read_file(source);
    if (!content) throw fail("cannot be read");
    HarnessFile f;
    f.path = h.path;
    f.content = std::move(*content);
    f.executable = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
    f.sha256 = util::sha256_hex(f.content);
    out.push_back(std::move(f));
  }
  return out;
}

nlohmann::json harness_json(const std::vector<HarnessFile>& files) {
  nlohmann::json out = nlohmann::json::object();
  for (const HarnessFile& f : files) out[f.path] = f.sha256;
  return out;
}

}  // namespace ar::session
