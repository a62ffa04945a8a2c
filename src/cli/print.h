// printf-style terminal output for the commands: every string argument (keys, class names, file
// names, labels: text that comes from files) goes through escape_control(), so no control
// character from a file reaches the terminal; numbers pass as they are and the format string is
// the program's own. Leaves out: already safe text (format_table()'s tables, JSON documents),
// printed as is. Spec: docs/DESIGN.md section 7.4 (safety rules).
#pragma once

#include <cstdio>
#include <deque>
#include <string>
#include <type_traits>
#include <vector>

#include "common/escape.h"

namespace cnnscope::cli {
namespace detail {

inline const char* safe_arg(std::deque<std::string>& keep, const char* text) {
  return keep.emplace_back(escape_control(text)).c_str();
}
template <typename T>
T safe_arg(std::deque<std::string>& /*keep*/, T value) {
  static_assert(std::is_arithmetic_v<T>, "print() takes C strings and numbers");
  return value;
}

}  // namespace detail

// std::fprintf(out, format, args...) with the string arguments escaped.
template <typename... Args>
void print_to(std::FILE* out, const char* format, const Args&... args) {
  std::deque<std::string> keep;  // the escaped copies, alive until the call returns
  std::fprintf(out, format, detail::safe_arg(keep, args)...);
}

// The same to stdout.
template <typename... Args>
void print(const char* format, const Args&... args) {
  print_to(stdout, format, args...);
}

// An error's or warning's lines on stderr: "cnnscope: KIND: " and the first of error_lines(), then
// the others (a cnnscope::Error's way out, kMaxErrorLines in all) indented by two spaces.
inline void print_problem(const char* kind, const std::string& message, const std::string& type,
                          size_t max_lines) {
  const std::vector<std::string> lines = error_lines(message, type, max_lines);
  std::fprintf(stderr, "cnnscope: %s: %s\n", kind, lines[0].c_str());
  for (size_t i = 1; i < lines.size(); ++i) std::fprintf(stderr, "  %s\n", lines[i].c_str());
}

}  // namespace cnnscope::cli
