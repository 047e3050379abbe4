#include "exec/slurm_cli.hpp"

#include "proc/subprocess.hpp"

#include <sstream>

namespace ar::exec::slurm {

namespace {

proc::Result client(std::vector<std::string> argv) {
  proc::RunSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = std::chrono::seconds(30);
  spec.kill_grace = std::chrono::seconds(1);
  spec.tail_bytes = 64u << 10;
  return proc::run(spec);
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string field(const std::string& line, const std::string& key) {
  // `scontrol -o` prints one line of Key=Value pairs separated by spaces.
  std::istringstream in(line);
  std::string word;
  const std::string prefix = key + "=";
  while (in >> word) {
    if (word.rfind(prefix, 0) == 0) return word.substr(prefix.size());
  }
  return {};
}

}  // namespace

bool JobState::terminal() const {
  return known && state != "PENDING" && state != "RUNNING" && state != "COMPLETING" && state != "CONFIGURING" &&
         state != "SUSPENDED" && state != "REQUEUED" && state != "RESIZING" && state != "SIGNALING" &&
         state != "STAGE_OUT";
}

Submitted submit(const std::vector<std::string>& args, const std::filesystem::path& script) {
  std::vector<std::string> argv{"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script.string());
  proc::Result r = client(argv);
  Submitted s;
  if (!r.ok()) {
    std::string msg = first_line(r.tail);
    s.error = r.ending == proc::Ending::failed_to_start ? r.describe() : (msg.empty() ? r.describe() : msg);
    return s;
  }
  // --parsable prints "<id>" or "<id>;<cluster>" on stdout, after any warning on stderr.
  std::string text = r.tail;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const std::string line = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  s.job = line.substr(0, line.find(';'));
  if (s.job.empty() || s.job.find_first_not_of("0123456789_") != std::string::npos) {
    s.error = "sbatch printed no job id: " + first_line(r.tail);
    s.job.clear();
  }
  return s;
}

JobState query(const std::string& job) {
  proc::Result r = client({"scontrol", "show", "job", "-o", job});
  JobState s;
  if (!r.ok()) {
    s.error = first_line(r.tail);
    if (s.error.empty()) s.error = r.describe();
    s.invalid = s.error.find("Invalid job id") != std::string::npos;
    return s;
  }
  const std::string line = first_line(r.tail);
  s.state = field(line, "JobState");
  if (s.state.empty()) {
    s.error = "scontrol printed no JobState: " + line;
    return s;
  }
  s.known = true;
  s.reason = field(line, "Reason");
  s.node = field(line, "NodeList");
  if (s.node == "(null)") s.node.clear();
  s.exit_code = field(line, "ExitCode");
  return s;
}

bool cancel(const std::string& job) {
  return client({"scancel", job}).ok();
}

bool cancel_named(const std::string& name) {
  return client({"scancel", "--name=" + name}).ok();
}

bool available() {
  return client({"sinfo", "-h", "-o", "%P"}).ok();
}

}  // namespace ar::exec::slurm
