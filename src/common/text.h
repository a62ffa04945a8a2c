// Text helpers shared by every stage: tensor shapes as text, digit grouping, byte sizes, suffix
// tests, joining. Leaves out: locale-aware formatting (output is the same on every machine) and
// "did you mean" suggestions (common/suggest.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <c10/util/ArrayRef.h>

namespace cnnscope {

// "[48, 3, 11, 11]" (PyTorch's list repr); "[]" for a 0-d tensor.
std::string shape_text(c10::ArrayRef<int64_t> shape);

// "48×3×11×11" with the given separator; "scalar" for a 0-d tensor.
std::string dims_text(c10::ArrayRef<int64_t> shape, std::string_view separator);

// "1,234,567": thousands grouped with commas (negative numbers keep their sign).
std::string thousands(int64_t n);

// "63.4 MiB": binary units, one decimal (two for GiB); whole bytes below 1 KiB.
std::string human_bytes(int64_t bytes);

// Python's repr of a float: the shortest digits that read back as `v`, fixed notation for
// exponents -4..15 ("0.1", "2.0", "0.00029999999999996696"), else scientific ("1e-05", "1e+16").
std::string py_float(double v);
// The same for a float32 value (numpy's repr of np.float32: the shortest float32 digits).
std::string py_float32(float v);

// `v` with `decimals` digits after the point, or "-" when it is NaN or infinite (tables).
std::string fixed_or_dash(double v, int decimals);

bool ends_with(std::string_view s, std::string_view tail);
bool starts_with(std::string_view s, std::string_view head);

std::string join(const std::vector<std::string>& parts, std::string_view separator);

// An aligned text table: `rows[0]` is the header; a row of one cell is a heading printed as is
// (not aligned); other cells are padded to their column's width in UTF-8 code points, left
// aligned where `left[c]` (else right), two spaces apart, trailing spaces trimmed, one line each.
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& left);

// Natural order: runs of digits compare as numbers ("epoch_2" < "epoch_10"), the rest byte by
// byte; equal numbers with different zero padding fall back to plain order.
bool natural_less(std::string_view a, std::string_view b);

}  // namespace cnnscope
