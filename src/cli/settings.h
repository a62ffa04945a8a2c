// A cnnscope::Error's settings (common/error.h: what the user should set, in the library's names)
// rendered as this CLI's flags and joined to the message's hint:
// "... (pass --resize 28 --crop 28)". Leaves out: serve's answers (serve/ leaves the settings out:
// a served model's are fixed when it starts).
// Spec: docs/DESIGN.md section 7.4 (one-line errors).
#pragma once

#include <map>
#include <string>

#include "common/error.h"

namespace cnnscope::cli {

// The flag that sets each library setting; a name not listed is spelled "--" + name.
inline std::string flag_for(const std::string& setting) {
  static const std::map<std::string, std::string> kFlags = {
      {"arch", "--arch"},     {"channels", "--channels"}, {"crop", "--crop"},
      {"device", "--device"}, {"format", "--format"},     {"key", "--key"},
      {"layer", "--layer"},   {"mode", "--mode"},         {"out", "-o"},
      {"resize", "--resize"},
  };
  const auto it = kFlags.find(setting);
  return it != kFlags.end() ? it->second : "--" + setting;
}

// "pass --resize 28 --crop 28"; "" for no settings.
inline std::string pass_flags(const Settings& settings) {
  std::string out;
  for (const Setting& s : settings)
    out +=
        (out.empty() ? "pass " : " ") + flag_for(s.name) + (s.value.empty() ? "" : " " + s.value);
  return out;
}

// The message with its settings rendered into the first line's closing hint ("(made for another
// input size? pass --resize 28 --crop 28)", "(... ; pass --arch resnet18)") or appended as one.
inline std::string with_flags(const std::string& message, const Settings& settings) {
  const std::string pass = pass_flags(settings);
  if (pass.empty()) return message;
  const size_t end = message.find('\n') == std::string::npos ? message.size() : message.find('\n');
  std::string first = message.substr(0, end);
  if (!first.empty() && first.back() == ')') {
    const char before = first.size() > 1 ? first[first.size() - 2] : ' ';
    first.insert(first.size() - 1, (before == '?' ? " " : "; ") + pass);
  } else {
    first += " (" + pass + ")";
  }
  return first + message.substr(end);
}

}  // namespace cnnscope::cli
