// common/escape.h: escape_control() leaves no terminal control and no invalid UTF-8 in text from
// files; error_lines() (what the CLI prints for an error) keeps the lines asked for, each escaped,
// the first never empty.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/escape.h"

namespace cnnscope {
namespace {

TEST(Escape, EscapeControlLeavesNoTerminalControls) {
  EXPECT_EQ(escape_control("conv1.weight"), "conv1.weight");
  EXPECT_EQ(escape_control("a\x1b[31mred\x1b]0;title\x07"), "a\\x1b[31mred\\x1b]0;title\\x07");
  constexpr char kRaw[] = "nul\0tab\tnl\ndel\x7f";
  EXPECT_EQ(escape_control(std::string(kRaw, sizeof kRaw - 1)), "nul\\x00tab\\x09nl\\x0adel\\x7f");
  EXPECT_EQ(escape_control("c1 \xc2\x9b"
                           "31m"),
            "c1 \\u009b31m");                                               // U+009B, the 8-bit CSI
  EXPECT_EQ(escape_control("\xff\xc3(\xe2\x82"), "\\xff\\xc3(\\xe2\\x82");  // invalid UTF-8
  EXPECT_EQ(escape_control("\xc0\xaf\xed\xa0\x80"),
            "\\xc0\\xaf\\xed\\xa0\\x80");  // overlong, surrogate
  // Valid UTF-8 and backslashes stay; escaping twice changes nothing.
  EXPECT_EQ(escape_control("48\u00d73 \u2016W\u2016 \U0001F600 a\\b"),
            "48\u00d73 \u2016W\u2016 \U0001F600 a\\b");
  const std::string once = escape_control("\x1b\xff\xc2\x85");
  EXPECT_EQ(escape_control(once), once);
}

TEST(Escape, ErrorLinesAreEscapedAndTheFirstIsNeverEmpty) {
  using Lines = std::vector<std::string>;
  EXPECT_EQ(error_lines("a.pth: broken (retry)", "cnnscope::Error"),
            Lines{"a.pth: broken (retry)"});
  EXPECT_EQ(error_lines("first line\nException raised from ...", "c10::Error"),
            Lines{"first line"});
  EXPECT_EQ(error_lines("", "std::bad_alloc"),
            Lines{"std::bad_alloc: internal error (please report)"});
  EXPECT_EQ(error_lines("  \nmore", "std::exception", 3),
            Lines{"std::exception: internal error (please report)"});
  EXPECT_EQ(error_lines("key \x1b]0;pwned\x07", "x"), Lines{"key \\x1b]0;pwned\\x07"});
  // A way out below the first line: the lines asked for, each escaped, no blank one at the end.
  EXPECT_EQ(error_lines("a: b\nc \x1b\nd\ne", "x", 3), (Lines{"a: b", "c \\x1b", "d"}));
  EXPECT_EQ(error_lines("a: b\nc\n\n", "x", 3), (Lines{"a: b", "c"}));
}

}  // namespace
}  // namespace cnnscope
