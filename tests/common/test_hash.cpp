// common/hash.h: FNV-1a 64 against the published test vectors, continuation, hex digits.
#include <gtest/gtest.h>

#include "common/hash.h"

namespace cnnscope {
namespace {

// Vectors from the FNV reference test suite (test_fnv.c, FNV-1a 64-bit).
TEST(Hash, Fnv1a64MatchesReferenceVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(fnv1a64(std::string_view("\0", 1)), 0xaf63bd4c8601b7dfULL);
}

TEST(Hash, Fnv1a64ContinuesFromAState) {
  EXPECT_EQ(fnv1a64("bar", fnv1a64("foo")), fnv1a64("foobar"));
  EXPECT_NE(fnv1a64("ab"), fnv1a64("ba"));
}

TEST(Hash, Hex64IsSixteenLowerCaseDigits) {
  EXPECT_EQ(hex64(0), "0000000000000000");
  EXPECT_EQ(hex64(0xcbf29ce484222325ULL), "cbf29ce484222325");
}

}  // namespace
}  // namespace cnnscope
