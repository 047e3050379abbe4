#pragma once
// A scripted Executor (ninja's FakeCommandRunner): no process is started. Each command is answered
// by the handler for its kind; every call is recorded. Handlers may read the command's working
// directory, so a fake benchmark can report a value that depends on the files a patch changed.

#include "exec/executor.hpp"

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ar::test {

struct FakeAnswer {
  int exit_code = 0;
  bool timed_out = false;
  std::map<std::string, double> metrics;  // METRIC lines of a benchmark
  std::string output;                     // the tail
};

class FakeExecutor : public exec::Executor {
 public:
  using Handler = std::function<FakeAnswer(const exec::Command&)>;

  struct Log {
    std::vector<exec::Command> calls;
    std::vector<exec::Command> of(exec::Kind kind) const {
      std::vector<exec::Command> out;
      for (const auto& c : calls) {
        if (c.kind == kind) out.push_back(c);
      }
      return out;
    }
  };

  FakeExecutor(std::map<exec::Kind, Handler> handlers, std::shared_ptr<Log> log)
      : m_handlers(std::move(handlers)), m_log(std::move(log)) {}

  exec::CommandResult run(const exec::Command& c) override {
    m_log->calls.push_back(c);
    FakeAnswer a;
    auto it = m_handlers.find(c.kind);
    if (it != m_handlers.end()) a = it->second(c);
    exec::CommandResult r;
    r.process.ending = a.timed_out ? proc::Ending::timed_out : proc::Ending::exited;
    r.process.exit_code = a.timed_out ? -1 : a.exit_code;
    r.process.seconds = 0.001;
    r.process.tail = a.output;
    if (c.scan_metrics) r.metrics = a.metrics;
    return r;
  }

 private:
  std::map<exec::Kind, Handler> m_handlers;
  std::shared_ptr<Log> m_log;
};

}  // namespace ar::test
