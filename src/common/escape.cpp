// utf8_length, is_utf8, escape_control and error_lines (see escape.h). Spec: RFC 3629 (valid UTF-8:
// no overlong forms, no surrogates, nothing past U+10FFFF); ECMA-48 (C0 and C1 control sets).
#include "common/escape.h"

#include <fmt/format.h>

#include <algorithm>

namespace cnnscope {

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), or 0.
size_t utf8_length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  return n;
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t n = utf8_length(text);
    const auto lead = static_cast<unsigned char>(text[0]);
    if (n == 0 || lead < 0x20 || lead == 0x7F) {
      out += fmt::format("\\x{:02x}", lead);
      text.remove_prefix(1);
      continue;
    }
    const auto second = n == 2 ? static_cast<unsigned char>(text[1]) : 0;
    if (lead == 0xC2 && second <= 0x9F)  // C1 control U+0080..U+009F
      out += fmt::format("\\u{:04x}", second);
    else
      out.append(text.substr(0, n));
    text.remove_prefix(n);
  }
  return out;
}

std::vector<std::string> error_lines(const std::string& message, const std::string& type,
                                     size_t max_lines) {
  std::vector<std::string> lines;
  size_t start = 0;
  do {
    const size_t end = std::min(message.find('\n', start), message.size());
    lines.push_back(escape_control(std::string_view(message).substr(start, end - start)));
    start = end + 1;
  } while (start <= message.size() && lines.size() < std::max<size_t>(max_lines, 1));
  const auto blank = [](const std::string& line) {
    return line.find_first_not_of(' ') == std::string::npos;
  };
  while (lines.size() > 1 && blank(lines.back())) lines.pop_back();
  if (blank(lines[0])) lines = {type + ": internal error (please report)"};
  return lines;
}

}  // namespace cnnscope
