#include "util/interrupt.hpp"

#include <unistd.h>

namespace ar {

volatile std::sig_atomic_t g_interrupt = 0;

namespace {

extern "C" void on_stop_signal(int sig) {
  if (g_interrupt != 0 && sig == SIGINT) {
    // Second Ctrl-C: leave now; the journal and worktrees are repaired by the next run.
    _exit(130);
  }
  g_interrupt = sig;
}

} // namespace

void install_interrupt_handlers(bool stop_on_hangup) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR so the loop notices quickly
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (stop_on_hangup) {
    sigaction(SIGHUP, &sa, nullptr);
  } else {
    signal(SIGHUP, SIG_IGN);
  }
  signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f) then fails the write with EFBIG, which the journal reports and
  // cuts back, instead of killing the run in the middle of a record.
  signal(SIGXFSZ, SIG_IGN);
}

} // namespace ar
