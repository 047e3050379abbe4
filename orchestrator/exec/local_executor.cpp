#include "exec/local_executor.hpp"

#include "util/files.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

namespace ar::exec {

namespace fs = std::filesystem;

LocalExecutor::LocalExecutor(LocalOptions options) : m_options(std::move(options)) {
  proc::become_subreaper();
}

fs::path LocalExecutor::log_of(int experiment) const {
  return experiment > 0 ? m_options.logs / fmt::format("{:04d}.log", experiment) : m_options.run_log;
}

CommandResult LocalExecutor::run(const Command& c) {
  fs::path log = c.log.empty() ? log_of(c.experiment) : c.log;
  {
    std::ofstream out(log, std::ios::app);
    out << fmt::format("==> {} [{}] $ {}\n", util::utc_now_iso(), c.label, c.command);
  }
  proc::RunSpec spec;
  spec.cwd = c.cwd;
  spec.timeout = c.timeout;
  spec.log_path = log;
  spec.interrupt = &g_interrupt;
  spec.cancel = m_options.cancel;
  spec.stray_token = m_options.token;
  spec.stdin_path = c.stdin_path;
  spec.cpus = c.cpus;
  // One experiment's log stays under max_log_mb: each run gets what is left, head and tail.
  std::error_code ec;
  std::uint64_t used = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
  std::uint64_t cap = static_cast<std::uint64_t>(m_options.max_log_mb ? m_options.max_log_mb() : 64) << 20;
  std::uint64_t left = used < cap ? cap - used : 0;
  spec.log_tail_bytes = std::max<std::uint64_t>(std::min<std::uint64_t>(1u << 20, left / 4), 4096);
  spec.log_head_bytes = std::max<std::uint64_t>(left > spec.log_tail_bytes ? left - spec.log_tail_bytes : 0, 4096);
  if (m_options.on_spawn) spec.on_spawn = [this, &c](int) { m_options.on_spawn(c); };
  spec.env = {{"AUTORESEARCH_SESSION", m_options.session}, {"AUTORESEARCH_EXPERIMENT", std::to_string(c.experiment)}};
  spec.env.insert(spec.env.end(), c.env.begin(), c.env.end());
  if (m_options.shell) spec.shell = m_options.shell();
  const bool confined = m_options.sandbox != nullptr && m_options.sandbox->confined();
  if (confined) {
    m_options.sandbox->confine(spec, c.command, c.side, c.cwd);
  } else {
    spec.command = c.command;
  }
  metrics::MetricScanner scanner;
  if (c.scan_metrics) spec.on_line = [&scanner](std::string_view line) { scanner.feed(line); };

  CommandResult out;
  out.process = proc::run(spec);
  if (confined && !out.process.ok()) {
    std::string refused = Sandbox::refusal(out.process.tail);
    if (!refused.empty()) out.process.hint = "refused by the sandbox: " + refused;
  }
  {
    std::ofstream o(log, std::ios::app);
    o << fmt::format("==> [{}] {} in {:.2f}s\n", c.label, out.process.describe(), out.process.seconds);
  }
  if (c.scan_metrics) {
    out.metrics = scanner.reduced(m_options.repeat ? m_options.repeat() : metrics::Repeat::median);
    out.rejected = scanner.rejected();
  }
  return out;
}

}  // namespace ar::exec
