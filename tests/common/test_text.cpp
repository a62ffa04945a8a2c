// common/text.h: shapes, digit grouping, byte sizes, suffixes, joining, tables (cells escaped).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "common/text.h"

namespace cnnscope {
namespace {

TEST(Text, ShapesAsPyTorchListsAndAsDimensions) {
  EXPECT_EQ(shape_text(std::vector<int64_t>{48, 3, 11, 11}), "[48, 3, 11, 11]");
  EXPECT_EQ(shape_text(std::vector<int64_t>{}), "[]");
  EXPECT_EQ(shape_text(at::zeros({2, 5}).sizes()), "[2, 5]");
  EXPECT_EQ(dims_text(std::vector<int64_t>{48, 3, 11, 11}, "x"), "48x3x11x11");
  EXPECT_EQ(dims_text(std::vector<int64_t>{}, "x"), "scalar");
}

TEST(Text, ThousandsGroupsDigits) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1000), "1,000");
  EXPECT_EQ(thousands(14591685), "14,591,685");
  EXPECT_EQ(thousands(-1234567), "-1,234,567");
}

TEST(Text, HumanBytesUsesBinaryUnits) {
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1124), "1.1 KiB");
  EXPECT_EQ(human_bytes(66521760), "63.4 MiB");
  EXPECT_EQ(human_bytes(int64_t{3} << 30), "3.00 GiB");
}

TEST(Text, FixedOrDashForTables) {
  EXPECT_EQ(fixed_or_dash(2.34567, 3), "2.346");
  EXPECT_EQ(fixed_or_dash(-1.0, 1), "-1.0");
  EXPECT_EQ(fixed_or_dash(NAN, 3), "-");
  EXPECT_EQ(fixed_or_dash(-INFINITY, 1), "-");
}

TEST(Text, PyFloatIsPythonsRepr) {
  // Expected strings are repr(float) in CPython 3.11.
  EXPECT_EQ(py_float(0.1), "0.1");
  EXPECT_EQ(py_float(2.0), "2.0");
  EXPECT_EQ(py_float(1e-5), "1e-05");
  EXPECT_EQ(py_float(1e-6), "1e-06");
  EXPECT_EQ(py_float(0.001), "0.001");
  EXPECT_EQ(py_float(0.0001), "0.0001");
  EXPECT_EQ(py_float(1 - 0.9997), "0.00029999999999996696");
  EXPECT_EQ(py_float(0.2 * 3.0 / 16.0), "0.037500000000000006");
  EXPECT_EQ(py_float(1e16), "1e+16");
  EXPECT_EQ(py_float(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(py_float(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(py_float(0.0), "0.0");
}

TEST(Text, SuffixPrefixJoin) {
  EXPECT_TRUE(ends_with("model.safetensors", ".safetensors"));
  EXPECT_FALSE(ends_with("pt", ".pt"));
  EXPECT_TRUE(starts_with("layer1.0.conv1", "layer1."));
  EXPECT_FALSE(starts_with("layer10.conv", "layer1."));
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join({}, ", "), "");
}

TEST(Text, NaturalOrder) {
  EXPECT_TRUE(natural_less("epoch_2.pth", "epoch_10.pth"));
  EXPECT_FALSE(natural_less("epoch_10.pth", "epoch_2.pth"));
  EXPECT_TRUE(natural_less("a9", "b1"));
  EXPECT_TRUE(natural_less("ep1", "ep1a"));
  EXPECT_TRUE(natural_less("ep01", "ep1"));  // same number: plain order decides
  EXPECT_FALSE(natural_less("x", "x"));
  std::vector<std::string> v{"e10", "e2", "e1", "e02"};
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return natural_less(x, y); });
  EXPECT_EQ(v, (std::vector<std::string>{"e1", "e02", "e2", "e10"}));
}

TEST(Text, FormatTableEscapesEveryCell) {
  const std::string table =
      format_table({{"name", "n"}, {"k\x1b[2J", "1"}, {"head\x9b"}}, {true, false});
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
  EXPECT_EQ(table, "name      n\nk\\x1b[2J  1\nhead\\x9b\n");
}

}  // namespace
}  // namespace cnnscope
