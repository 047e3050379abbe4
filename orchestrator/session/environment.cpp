#include "session/environment.hpp"

#include "proc/subprocess.hpp"
#include "util/files.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <sstream>

#include <fmt/format.h>

namespace ar::session {

using nlohmann::json;

namespace {

// The value after "key:" on the first line of `text` that starts with `key`.
std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

// The first line `<tool> --version` prints, when the tool is on the PATH and answers in time.
std::string version_of(const std::string& tool) {
  proc::RunSpec spec;
  spec.argv = {tool, "--version"};
  spec.timeout = std::chrono::seconds(5);
  proc::Result r = proc::run(spec);
  if (!r.ok()) return "";
  std::string line = r.tail.substr(0, r.tail.find('\n'));
  return line.size() > 120 ? line.substr(0, 120) : line;
}

}  // namespace

json capture_environment() {
  json env = json::object();
  std::string cpuinfo = util::read_file("/proc/cpuinfo").value_or("");
  std::string model = field(cpuinfo, "model name");
  if (model.empty()) model = field(cpuinfo, "Model");  // arm
  if (!model.empty()) env["cpu"] = model;
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 0) env["cores"] = cores;
  std::string mem = field(util::read_file("/proc/meminfo").value_or(""), "MemTotal");
  if (!mem.empty()) env["memory_kb"] = std::strtoll(mem.c_str(), nullptr, 10);
  utsname u{};
  if (::uname(&u) == 0) env["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  std::string load = util::read_file("/proc/loadavg").value_or("");
  std::istringstream in(load);
  double one = 0, five = 0, fifteen = 0;
  if (in >> one >> five >> fifteen) env["load_average"] = {one, five, fifteen};
  json compilers = json::object();
  for (const char* tool : {"cc", "gcc", "g++", "clang", "clang++", "rustc", "go", "javac"}) {
    std::string v = version_of(tool);
    if (!v.empty()) compilers[tool] = v;
  }
  env["compilers"] = compilers;
  env["root"] = ::geteuid() == 0;
  return env;
}

}  // namespace ar::session
