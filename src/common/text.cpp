// Text helpers (see text.h); format_table escapes its cells (common/escape.h). Spec: PyTorch's list
// repr for shapes; IEC binary prefixes for sizes.
#include "common/text.h"

#include "common/escape.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace cnnscope {

std::string shape_text(c10::ArrayRef<int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string dims_text(c10::ArrayRef<int64_t> shape, std::string_view separator) {
  if (shape.empty()) return "scalar";
  return fmt::format("{}", fmt::join(shape, separator));
}

std::string thousands(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {

// Python's notation for the shortest round-trip digits `sci` ("-2.9999999999996696e-04").
std::string python_notation(const std::string& sci, bool negative) {
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c >= '0' && c <= '9') digits += c;
  const int exponent = std::stoi(sci.substr(e + 1));
  const std::string sign = negative ? "-" : "";
  constexpr int kFixedFrom = -4, kFixedTo = 16;
  if (exponent < kFixedFrom || exponent >= kFixedTo) {
    std::string mantissa = digits.substr(0, 1);
    if (digits.size() > 1) mantissa += "." + digits.substr(1);
    const int magnitude = std::abs(exponent);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") +
           std::to_string(magnitude);
  }
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) return sign + "0." + std::string(-point, '0') + digits;
  if (static_cast<size_t>(point) >= digits.size())
    return sign + digits + std::string(point - digits.size(), '0') + ".0";
  return sign + digits.substr(0, point) + "." + digits.substr(point);
}

template <typename T>
std::string shortest_repr(T v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  return python_notation(std::string(buf.data(), end), v < 0);
}

}  // namespace

std::string py_float(double v) {
  return shortest_repr(v);
}

std::string py_float32(float v) {
  return shortest_repr(v);
}

std::string fixed_or_dash(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : "-";
}

std::string human_bytes(int64_t bytes) {
  constexpr double kKiB = 1024.0;
  const double b = static_cast<double>(bytes);
  if (b >= kKiB * kKiB * kKiB) return fmt::format("{:.2f} GiB", b / (kKiB * kKiB * kKiB));
  if (b >= kKiB * kKiB) return fmt::format("{:.1f} MiB", b / (kKiB * kKiB));
  if (b >= kKiB) return fmt::format("{:.1f} KiB", b / kKiB);
  return fmt::format("{} B", bytes);
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool starts_with(std::string_view s, std::string_view head) {
  return s.size() >= head.size() && s.substr(0, head.size()) == head;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  return fmt::format("{}", fmt::join(parts, separator));
}

std::string format_table(const std::vector<std::vector<std::string>>& raw_rows,
                         const std::vector<bool>& left) {
  std::vector<std::vector<std::string>> rows;  // cells from files may hold terminal controls
  rows.reserve(raw_rows.size());
  for (const auto& raw : raw_rows) {
    std::vector<std::string>& row = rows.emplace_back();
    for (const std::string& cell : raw) row.push_back(escape_control(cell));
  }
  const auto width = [](const std::string& s) {  // code points: "×" is two bytes, one column
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (row.size() == 1) continue;
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    if (row.size() == 1) {
      line = row[0];
    } else {
      for (size_t c = 0; c < row.size(); ++c) {
        const std::string fill(widths[c] - width(row[c]), ' ');
        const bool l = c < left.size() && left[c];
        line += (c ? "  " : "") + (l ? row[c] + fill : fill + row[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool natural_less(std::string_view a, std::string_view b) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::string_view x = a.substr(i, ie - i), y = b.substr(j, je - j);
      const size_t xz = std::min(x.find_first_not_of('0'), x.size());
      const size_t yz = std::min(y.find_first_not_of('0'), y.size());
      x.remove_prefix(xz);
      y.remove_prefix(yz);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;
}

}  // namespace cnnscope
