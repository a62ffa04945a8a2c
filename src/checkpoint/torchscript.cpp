// The class declarations of a TorchScript archive's code/ files, read as text (never run): per
// class, its `__parameters__` and `__buffers__` lists and its `name : Final[T] = value`
// constants, the values rewritten as Python reprs ("zeros" -> 'zeros',
// 0.10000000000000001 -> 0.1). Leaves out: methods, and classes nested in functions. Spec: the
// Python-like source that torch/csrc/jit/serialization/python_print.cpp writes.
#include <cctype>
#include <cstdlib>

#include "checkpoint/pth.h"
#include "common/text.h"

namespace cnnscope {
namespace {

// The quoted names of `["weight", "bias", ]`.
std::vector<std::string> quoted_names(std::string_view list) {
  std::vector<std::string> out;
  for (size_t at = list.find('"'); at != std::string_view::npos; at = list.find('"', at)) {
    const size_t end = list.find('"', at + 1);
    if (end == std::string_view::npos) break;
    out.emplace_back(list.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

// A number starts at text[i]: a digit, or '-' before one, not inside a name such as `x2`.
bool starts_number(std::string_view text, size_t i) {
  auto digit = [&](size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
  const bool after_name =
      i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_');
  return !after_name && (digit(i) || (text[i] == '-' && digit(i + 1)));
}

// A TorchScript literal as Python's repr: strings in single quotes, floats at their shortest
// digits; ints, bools, None, tuples and lists as they are.
std::string python_literal(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') {
      const size_t end = text.find('"', i + 1);
      if (end == std::string_view::npos) return std::string(text);
      out += "'" + std::string(text.substr(i + 1, end - i - 1)) + "'";
      i = end + 1;
    } else if (starts_number(text, i)) {
      size_t end = i + 1;
      while (end < text.size() &&
             std::string_view("0123456789.eE+-").find(text[end]) != std::string_view::npos)
        ++end;
      const std::string number(text.substr(i, end - i));
      out += number.find_first_of(".eE") == std::string::npos
                 ? number
                 : py_float(std::strtod(number.c_str(), nullptr));
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

void parse_script_classes(const std::string& module, std::string_view code,
                          std::map<std::string, PthFile::ScriptClass>& out) {
  PthFile::ScriptClass* current = nullptr;
  size_t start = 0;
  while (start < code.size()) {
    size_t end = code.find('\n', start);
    if (end == std::string_view::npos) end = code.size();
    const std::string_view line = code.substr(start, end - start);
    start = end + 1;
    if (starts_with(line, "class ")) {
      const size_t name_end = line.find_first_of("(:", 6);
      current = &out[module + "." + std::string(line.substr(6, name_end - 6))];
      continue;
    }
    if (!starts_with(line, "  ") || starts_with(line, "   ")) {  // a member: two spaces exactly
      if (!line.empty() && line[0] != ' ') current = nullptr;
      continue;
    }
    if (!current) continue;
    const std::string_view member = line.substr(2);
    if (starts_with(member, "__parameters__ = ")) {
      current->parameters = quoted_names(member);
    } else if (starts_with(member, "__buffers__ = ")) {
      current->buffers = quoted_names(member);
    } else {
      const size_t colon = member.find(" : Final[");
      const size_t equals = member.find("] = ");
      if (colon != std::string_view::npos && equals != std::string_view::npos && equals > colon)
        current->constants.emplace_back(std::string(member.substr(0, colon)),
                                        python_literal(member.substr(equals + 4)));
    }
  }
}

}  // namespace cnnscope
