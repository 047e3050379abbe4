#pragma once
// The one global of the program: set by SIGINT/SIGTERM handlers, read by the loop and by the
// subprocess layer, which stops the running child's process group when it sees it set.

#include <csignal>

namespace ar {

// 0: keep going; otherwise the number of the signal that asked us to stop.
extern volatile std::sig_atomic_t g_interrupt;

// Installs handlers for SIGINT and SIGTERM that set g_interrupt; a second SIGINT while the flag
// is already set exits at once (the next run repairs). SIGHUP is ignored unless stop_on_hangup.
void install_interrupt_handlers(bool stop_on_hangup);

inline bool interrupted() { return g_interrupt != 0; }

} // namespace ar
