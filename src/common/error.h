// cnnscope::Error: the one exception type of the library. Its message names the file, the key,
// expected vs got and a hint, so the CLI can print it as one line (`cnnscope: error: ...`).
#pragma once

#include <stdexcept>
#include <string>

namespace cnnscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds "FILE: what (hint)"; file and hint may be empty. Use it for every user-facing error.
struct ErrorMessage {
  std::string file;
  std::string what;
  std::string hint;

  std::string str() const {
    std::string out = file.empty() ? what : file + ": " + what;
    if (!hint.empty()) out += " (" + hint + ")";
    return out;
  }
};

[[noreturn]] inline void fail(const std::string& file, const std::string& what,
                              const std::string& hint = "") {
  throw Error(ErrorMessage{file, what, hint}.str());
}

}  // namespace cnnscope
