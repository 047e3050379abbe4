#pragma once
// The machine a segment ran on, for the journal header and the report's methodology: CPU model,
// cores, memory, kernel, the compilers found on the PATH, the load average at start, and who ran
// it (root or not: the sandbox's engine cost differs). Best effort: what cannot be read is left
// out, never an error.

#include <nlohmann/json.hpp>

namespace ar::session {

nlohmann::json capture_environment();

}  // namespace ar::session
