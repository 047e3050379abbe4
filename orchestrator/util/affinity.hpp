#pragma once
// CPU sets for benchmark.cpus: parsing "2-3" / "0,2,4-5", and the pinning plan (which CPUs the
// benchmark runs on, which the orchestrator moves to while pairs run). The plan is a pure function
// of the spec and the CPUs this process may use; reading and setting affinity are the only calls
// into the kernel.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ar::util {

// "0-3,6" -> {0, 1, 2, 3, 6}, sorted and unique; nullopt when malformed or empty.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);
// {0, 1, 2, 3, 6} -> "0-3,6".
std::string cpu_list_text(const std::vector<int>& cpus);

// The CPUs this process may run on (sched_getaffinity); empty when unknown.
std::vector<int> allowed_cpus();
// Moves the calling thread to `cpus`; false when the kernel refuses (errno set).
bool set_affinity(const std::vector<int>& cpus);

struct Pinning {
  std::vector<int> benchmark;     // both sides of every pair run here; empty: not pinned
  std::vector<int> orchestrator;  // the loop waits here while pairs run; empty: stays put
  std::string error;              // a spec that cannot be honoured, in words
};

// `spec` is "auto", "all" or a CPU list. auto: with 4 or more allowed CPUs the benchmark gets all
// but the lowest (CPU 0 takes most interrupts) and the orchestrator that one; with fewer, the
// benchmark gets them all and the orchestrator stays put. all: every allowed CPU, orchestrator
// stays put. A list: those CPUs (each must be allowed), the orchestrator on the allowed rest if
// any. Never a single CPU unless asked: multi-threaded benchmarks must not be serialised.
Pinning plan_pinning(const std::string& spec, const std::vector<int>& allowed);

}  // namespace ar::util
