#pragma once
// The error hierarchy of the orchestration layers. Exactly one catch in main.cpp turns these into
// "autoresearch: error: <message>" and an exit code. Messages carry their object
// ("autoresearch.config.yaml:12: ...", "experiment 17: ...").

#include <stdexcept>
#include <string>

namespace ar {

// Exit codes, documented in the README.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_interrupted = 130;

// A failure of the run (git, file system, a journal that cannot be read): exit 1.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const noexcept { return k_exit_failure; }
};

// A bad config file or bad command-line usage: exit 2.
class ConfigError : public Error {
public:
  using Error::Error;
  int exit_code() const noexcept override { return k_exit_usage; }
};

// The person (or a signal) stopped the run: exit 130.
class Interrupted : public Error {
public:
  using Error::Error;
  int exit_code() const noexcept override { return k_exit_interrupted; }
};

} // namespace ar
