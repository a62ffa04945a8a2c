// Test helpers: where the oracle's fixtures are (CNNSCOPE_FIXTURES) and the built CLI
// (CNNSCOPE_BIN).
#pragma once

#include <cstdlib>
#include <string>

namespace cnnscope::testing {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

inline std::string fixture(const std::string& name) {
  return env_or("CNNSCOPE_FIXTURES", "build/fixtures") + "/" + name;
}

inline std::string cli_binary() {
  return env_or("CNNSCOPE_BIN", "build/cnnscope");
}

}  // namespace cnnscope::testing
