// cnnscope::Error: the one exception type of the library. Its message names the file, the key,
// expected vs got and a hint, in the library's own words, so the CLI can print it as one line
// (`cnnscope: error: ...`). What the user should set to get past it travels beside the message as
// settings ({"resize", "28"}): the library never names a CLI flag; the CLI renders them as flags
// (cli/settings.h), serve in its own terms.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/escape.h"

namespace cnnscope {

// One thing to set, in the library's names: the option ("resize", "arch", "layer") and its value
// ("28", "resnet18"), or "" where the user picks it (the CLI then names the flag only).
struct Setting {
  std::string name;
  std::string value;
};
using Settings = std::vector<Setting>;

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, Settings settings = {})
      : std::runtime_error(message), settings_(std::move(settings)) {}

  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
};

// Builds "FILE: what (hint)"; file and hint may be empty; the file's control characters are
// escaped (a name holding a newline stays on one line). Use it for every user-facing error.
struct ErrorMessage {
  std::string file;
  std::string what;
  std::string hint;

  std::string str() const {
    std::string out = file.empty() ? what : escape_control(file) + ": " + what;
    if (!hint.empty()) out += " (" + hint + ")";
    return out;
  }
};

[[noreturn]] inline void fail(const std::string& file, const std::string& what,
                              const std::string& hint = "", Settings settings = {}) {
  throw Error(ErrorMessage{file, what, hint}.str(), std::move(settings));
}

}  // namespace cnnscope
