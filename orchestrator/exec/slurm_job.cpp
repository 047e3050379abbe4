#include "exec/slurm_job.hpp"

#include "exec/local_executor.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <unistd.h>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ar::exec {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* ending_name(proc::Ending e) {
  switch (e) {
    case proc::Ending::exited:
      return "exited";
    case proc::Ending::signaled:
      return "signaled";
    case proc::Ending::timed_out:
      return "timed_out";
    case proc::Ending::interrupted:
      return "interrupted";
    case proc::Ending::failed_to_start:
      break;
  }
  return "failed_to_start";
}

proc::Ending ending_from(const std::string& s) {
  if (s == "exited") return proc::Ending::exited;
  if (s == "signaled") return proc::Ending::signaled;
  if (s == "timed_out") return proc::Ending::timed_out;
  if (s == "interrupted") return proc::Ending::interrupted;
  return proc::Ending::failed_to_start;
}

json command_json(const Command& c) {
  json env = json::array();
  for (const auto& [k, v] : c.env) env.push_back({k, v});
  return {{"kind", static_cast<int>(c.kind)},
          {"label", c.label},
          {"experiment", c.experiment},
          {"side", c.side},
          {"command", c.command},
          {"cwd", c.cwd.string()},
          {"timeout_ms", c.timeout.count()},
          {"env", env},
          {"stdin", c.stdin_path.string()},
          {"scan_metrics", c.scan_metrics},
          {"cpus", c.cpus}};
}

Command command_from(const json& j) {
  Command c;
  c.kind = static_cast<Kind>(j.at("kind").get<int>());
  c.label = j.at("label").get<std::string>();
  c.experiment = j.at("experiment").get<int>();
  c.side = j.at("side").get<int>();
  c.command = j.at("command").get<std::string>();
  c.cwd = j.at("cwd").get<std::string>();
  c.timeout = std::chrono::milliseconds(j.at("timeout_ms").get<long long>());
  for (const auto& kv : j.at("env")) c.env.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  c.stdin_path = j.at("stdin").get<std::string>();
  c.scan_metrics = j.at("scan_metrics").get<bool>();
  c.cpus = j.at("cpus").get<std::vector<int>>();
  return c;
}

json result_json(const CommandResult& r) {
  const proc::Result& p = r.process;
  json rejected = json::array();
  for (const auto& x : r.rejected) rejected.push_back({{"line", x.line}, {"text", x.text}, {"why", x.why}});
  return {{"ending", ending_name(p.ending)},
          {"exit_code", p.exit_code},
          {"signal", p.signal},
          {"seconds", p.seconds},
          {"cpu_seconds", p.cpu_seconds},
          {"cpu", p.cpu},
          {"tail", p.tail},
          {"error", p.error},
          {"hint", p.hint},
          {"output_bytes", p.output_bytes},
          {"log_cut", p.log_cut},
          {"metrics", r.metrics},
          {"rejected", rejected}};
}

CommandResult result_from(const json& j) {
  CommandResult r;
  proc::Result& p = r.process;
  p.ending = ending_from(j.at("ending").get<std::string>());
  p.exit_code = j.at("exit_code").get<int>();
  p.signal = j.at("signal").get<int>();
  p.seconds = j.at("seconds").get<double>();
  p.cpu_seconds = j.at("cpu_seconds").get<double>();
  p.cpu = j.at("cpu").get<int>();
  p.tail = j.at("tail").get<std::string>();
  p.error = j.at("error").get<std::string>();
  p.hint = j.at("hint").get<std::string>();
  p.output_bytes = j.at("output_bytes").get<std::uint64_t>();
  p.log_cut = j.at("log_cut").get<bool>();
  r.metrics = j.at("metrics").get<std::map<std::string, double>>();
  for (const auto& x : j.at("rejected")) {
    r.rejected.push_back(
        {x.at("line").get<std::size_t>(), x.at("text").get<std::string>(), x.at("why").get<std::string>()});
  }
  return r;
}

std::vector<std::string> strings(const std::vector<fs::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

std::optional<json> read_json(const fs::path& file) {
  std::optional<std::string> text = util::read_file(file);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  std::string h = buf;
  return h.substr(0, h.find('.'));
}

}  // namespace

fs::path run_log_path(const fs::path& folder, std::size_t index) {
  return folder / fmt::format("run-{}.log", index + 1);
}

void write_spec(const fs::path& folder, const BlockSpec& s) {
  json commands = json::array();
  for (const Command& c : s.commands) commands.push_back(command_json(c));
  json j = {{"session", s.session},
            {"token", s.token},
            {"experiment", s.experiment},
            {"shell", s.shell},
            {"repeat", s.repeat == metrics::Repeat::last ? "last" : "median"},
            {"max_log_mb", s.max_log_mb},
            {"sandbox",
             {{"mode", config::to_string(s.sandbox.mode)},
              {"bwrap", s.sandbox.force_bwrap},
              {"writable", s.sandbox.writable}}},
            {"layout",
             {{"protect", strings(s.layout.protect)},
              {"worktrees", {s.layout.worktrees[0].string(), s.layout.worktrees[1].string()}},
              {"tmp_root", s.layout.tmp_root.string()},
              {"outbox", s.layout.outbox.string()}}},
            {"config_file", s.config_file.string()},
            {"commands", commands}};
  util::write_file_atomic(folder / k_spec_file, j.dump(2) + "\n");
}

namespace {

BlockSpec read_spec(const fs::path& folder) {
  const fs::path file = folder / k_spec_file;
  std::optional<json> j = read_json(file);
  if (!j) throw Error(fmt::format("{}: cannot read the block spec", file.string()));
  try {
    BlockSpec s;
    s.session = j->at("session").get<std::string>();
    s.token = j->at("token").get<std::string>();
    s.experiment = j->at("experiment").get<int>();
    s.shell = j->at("shell").get<std::string>();
    s.repeat = j->at("repeat").get<std::string>() == "last" ? metrics::Repeat::last : metrics::Repeat::median;
    s.max_log_mb = j->at("max_log_mb").get<int>();
    const json& sb = j->at("sandbox");
    const std::string mode = sb.at("mode").get<std::string>();
    s.sandbox.mode = mode == "strict" ? config::SandboxMode::strict
                     : mode == "off"  ? config::SandboxMode::off
                                      : config::SandboxMode::automatic;
    s.sandbox.force_bwrap = sb.at("bwrap").get<bool>();
    s.sandbox.writable = sb.at("writable").get<std::vector<std::string>>();
    const json& l = j->at("layout");
    for (const auto& p : l.at("protect")) s.layout.protect.emplace_back(p.get<std::string>());
    s.layout.worktrees = {fs::path(l.at("worktrees").at(0).get<std::string>()),
                          fs::path(l.at("worktrees").at(1).get<std::string>())};
    s.layout.tmp_root = l.at("tmp_root").get<std::string>();
    s.layout.outbox = l.at("outbox").get<std::string>();
    s.config_file = j->at("config_file").get<std::string>();
    for (const auto& c : j->at("commands")) s.commands.push_back(command_from(c));
    return s;
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: bad block spec: {}", file.string(), e.what()));
  }
}

}  // namespace

std::optional<BlockStart> read_started(const fs::path& folder) {
  std::optional<json> j = read_json(folder / k_started_file);
  if (!j) return std::nullopt;
  return BlockStart{j->value("node", ""), j->value("job", ""), j->value("pid", 0)};
}

std::optional<BlockResult> read_result(const fs::path& folder) {
  std::optional<json> j = read_json(folder / k_result_file);
  if (!j) return std::nullopt;
  try {
    BlockResult b;
    b.node = j->at("node").get<std::string>();
    b.job = j->at("job").get<std::string>();
    b.complete = j->at("complete").get<bool>();
    b.signal = j->at("signal").get<int>();
    for (const auto& r : j->at("results")) b.results.push_back(result_from(r));
    return b;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

int run_block(const fs::path& folder) {
  const BlockSpec spec = read_spec(folder);
  install_interrupt_handlers(false);
  BlockResult out;
  out.node = env_or("SLURMD_NODENAME", host_name());
  out.job = env_or("SLURM_JOB_ID", "");
  util::write_file_atomic(
      folder / k_started_file,
      json{{"node", out.node}, {"job", out.job}, {"pid", static_cast<int>(::getpid())}}.dump() + "\n");
  // The same sandbox as on the orchestrator's machine, built here: its namespaces are this
  // process's own.
  Sandbox sandbox = Sandbox::make(spec.sandbox, spec.layout, spec.config_file);
  sandbox.prepare();
  LocalOptions lo;
  lo.session = spec.session;
  lo.logs = folder;
  lo.run_log = folder / "runner.log";
  lo.token = spec.token;
  const int max_log_mb = spec.max_log_mb;
  const metrics::Repeat repeat = spec.repeat;
  const std::string shell = spec.shell;
  lo.max_log_mb = [max_log_mb] { return max_log_mb; };
  lo.repeat = [repeat] { return repeat; };
  lo.shell = [shell] { return shell; };
  lo.sandbox = &sandbox;
  LocalExecutor local(lo);  // also makes this process the subreaper of what the runs leave behind
  out.complete = true;
  for (std::size_t i = 0; i < spec.commands.size(); ++i) {
    Command c = spec.commands[i];
    c.log = run_log_path(folder, i);
    CommandResult r = local.run(c);
    const bool ok = r.ok();
    out.results.push_back(std::move(r));
    if (interrupted()) {
      out.complete = false;
      out.signal = g_interrupt;
      break;
    }
    if (!ok) break;
  }
  json results = json::array();
  for (const CommandResult& r : out.results) results.push_back(result_json(r));
  util::write_file_atomic(folder / k_result_file, json{{"node", out.node},
                                                       {"job", out.job},
                                                       {"complete", out.complete},
                                                       {"signal", out.signal},
                                                       {"results", results}}
                                                          .dump() +
                                                      "\n");
  return 0;
}

}  // namespace ar::exec
