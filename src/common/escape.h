// Text from files (tensor keys, class names, file names, labels) made safe for a terminal, and the
// lines the CLI prints for an error. format_table() (text.h) escapes every cell with
// escape_control(). Leaves out: JSON output (nlohmann escapes control characters itself).
// Spec: docs/DESIGN.md section 7.4 (safety rules); RFC 3629 (UTF-8).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cnnscope {

// C0 controls (newline and tab included), DEL and bytes that are not valid UTF-8 become "\xNN",
// C1 controls (U+0080..U+009F) become "\u0080"; the rest, backslashes included, is kept.
// Idempotent.
std::string escape_control(std::string_view text);

// The length of the valid UTF-8 sequence at the start of `s` (no overlong forms, no surrogates,
// nothing past U+10FFFF), or 0; and whether all of `s` is such sequences.
size_t utf8_length(std::string_view s);
bool is_utf8(std::string_view s);

// What the CLI prints for an exception's message: its first `max_lines` lines (1 for LibTorch's,
// whose further lines are a backtrace; 3 for cnnscope::Error's, whose further lines are a way out),
// each escape_control()led. The first, printed after "cnnscope: error: ", is never empty: a blank
// message becomes "TYPE: internal error (please report)".
constexpr size_t kMaxErrorLines = 3;  // a cnnscope::Error's line and at most two of way out
std::vector<std::string> error_lines(const std::string& message, const std::string& type,
                                     size_t max_lines = 1);

}  // namespace cnnscope
