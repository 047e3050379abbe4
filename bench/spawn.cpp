// How the cost of starting a command grows with the size of the process that starts it:
// proc::run (clone with CLONE_VM|CLONE_VFORK) against plain fork+exec, in a small process and
// after allocating about 160 MB in 4 KiB pieces (what a loop holding a 100,000-record view
// looks like to the kernel). Usage: autoresearch_spawn_bench [RUNS]
#include "proc/subprocess.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

double ms_per(Clock::time_point start, int runs) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count() / runs;
}

double time_run(int runs) {
  ar::proc::RunSpec spec;
  spec.argv = {"/bin/true"};
  auto start = Clock::now();
  for (int i = 0; i < runs; ++i) ar::proc::run(spec);
  return ms_per(start, runs);
}

double time_fork(int runs) {
  auto start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/true", "true", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  return ms_per(start, runs);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 100;
  std::printf("| process | proc::run | fork+exec |\n|---|---:|---:|\n");
  std::printf("| small | %.2f ms | %.2f ms |\n", time_run(runs), time_fork(runs));
  std::vector<std::unique_ptr<char[]>> blob;
  for (int i = 0; i < 40000; ++i) {
    blob.emplace_back(new char[4096]);
    for (int j = 0; j < 4096; j += 512) blob.back()[j] = 1;  // touched, so the pages exist
  }
  std::printf("| 160 MB | %.2f ms | %.2f ms |\n", time_run(runs), time_fork(runs));
}
