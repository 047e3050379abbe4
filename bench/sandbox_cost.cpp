// What the sandbox adds to starting a command: `sh -c true` through proc::run unconfined, joined
// to a side's namespaces (the default engine where the kernel has Landlock), and in a bubblewrap
// process of its own (the fallback engine), in a small process and after allocating about 160 MB.
// The layout is a throwaway repository-like tree in a temp dir. Usage: autoresearch_sandbox_cost [RUNS]
#include "exec/sandbox.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double time_runs(const ar::exec::Sandbox* sandbox, const fs::path& cwd, int runs) {
  auto start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    ar::proc::RunSpec spec;
    spec.cwd = cwd;
    if (sandbox != nullptr) {
      sandbox->confine(spec, "true", 1, cwd);
    } else {
      spec.command = "true";
    }
    ar::proc::Result r = ar::proc::run(spec);
    if (!r.ok()) {
      std::fprintf(stderr, "sh -c true failed: %s\n%s\n", r.describe().c_str(), r.tail.c_str());
      std::exit(1);
    }
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count() / runs;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  fs::path root = fs::temp_directory_path() / ("autoresearch-sandbox-cost-" + std::to_string(::getpid()));
  fs::path repo = root / "repo";
  ar::exec::SandboxLayout layout;
  layout.protect = {repo};
  layout.worktrees = {repo / ".autoresearch/wt/base", repo / ".autoresearch/wt/cand"};
  layout.tmp_root = repo / ".autoresearch/tmp";
  layout.outbox = repo / ".autoresearch/proposal";
  for (const fs::path& w : layout.worktrees) fs::create_directories(w);
  ar::config::Sandbox joined;
  ar::config::Sandbox own;
  own.force_bwrap = true;
  ar::exec::Sandbox a = ar::exec::Sandbox::make(joined, layout, "bench");
  ar::exec::Sandbox b = ar::exec::Sandbox::make(own, layout, "bench");
  a.prepare();
  b.prepare();
  if (!a.confined() || !b.confined()) {
    std::fprintf(stderr, "bubblewrap does not work here: %s\n", a.unconfined_why().c_str());
    return 1;
  }
  const fs::path& cwd = layout.worktrees[1];
  std::printf("%d runs of `sh -c true` each; engines: %s; %s\n\n", runs, a.engine().c_str(), b.engine().c_str());
  std::printf("| process | unconfined | namespaces joined | bwrap a command |\n|---|---:|---:|---:|\n");
  auto row = [&](const char* name) {
    double plain = time_runs(nullptr, cwd, runs);
    double ns = time_runs(&a, cwd, runs);
    double own_bwrap = time_runs(&b, cwd, runs);
    std::printf("| %s | %.2f ms | %.2f ms (%.2f×) | %.2f ms (%.2f×) |\n", name, plain, ns, ns / plain, own_bwrap,
                own_bwrap / plain);
  };
  row("small");
  std::vector<std::unique_ptr<char[]>> blob;
  for (int i = 0; i < 40000; ++i) {
    blob.emplace_back(new char[4096]);
    for (int j = 0; j < 4096; j += 512) blob.back()[j] = 1;
  }
  row("160 MB");
  std::error_code ec;
  fs::remove_all(root, ec);
}
