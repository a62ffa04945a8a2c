// render/apng.h: the animation's chunk sequence (acTL frame count, one fcTL per frame, sequence
// numbers 0, 1, 2, ... across fcTL/fdAT), CRCs that a PNG reader accepts, and refusals.
#include <gtest/gtest.h>

#include <boost/crc.hpp>

#include "common/error.h"
#include "render/apng.h"
#include "render/canvas.h"
#include "render/png_reader.h"

namespace cnnscope {
namespace {

std::string frame(uint8_t value) {
  std::vector<uint8_t> rgb(4 * 3 * 3, value);  // [3, 4, 3]
  return encode_png(rgb.data(), 4, 3);
}

uint32_t u32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

TEST(Apng, ChunksSequenceAndCrcs) {
  const std::string apng = assemble_apng({frame(10), frame(200), frame(90)}, 250);
  std::vector<std::string> types;
  std::vector<uint32_t> sequence;
  for (size_t at = 8; at + 12 <= apng.size();) {
    const uint32_t length = u32(apng, at);
    const std::string type = apng.substr(at + 4, 4), data = apng.substr(at + 8, length);
    boost::crc_32_type crc;
    crc.process_bytes(apng.data() + at + 4, 4 + length);
    EXPECT_EQ(crc.checksum(), u32(apng, at + 8 + length)) << type;
    types.push_back(type);
    if (type == "acTL") EXPECT_EQ(u32(data, 0), 3u);
    if (type == "fcTL" || type == "fdAT") sequence.push_back(u32(data, 0));
    at += 12 + length;
  }
  EXPECT_EQ(types.front(), "IHDR");
  EXPECT_EQ(types[1], "acTL");
  EXPECT_EQ(types.back(), "IEND");
  EXPECT_EQ(std::count(types.begin(), types.end(), "fcTL"), 3);
  for (size_t i = 0; i < sequence.size(); ++i) EXPECT_EQ(sequence[i], i);
  // A plain PNG reader shows the first frame.
  const testing::DecodedPng first = testing::decode_png(apng);
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.at(0, 0), 0x0a0a0au);
}

TEST(Apng, Refusals) {
  EXPECT_THROW(assemble_apng({}, 100), Error);
  EXPECT_THROW(assemble_apng({"not a png"}, 100), Error);
  std::vector<uint8_t> big(5 * 3 * 3, 0);
  EXPECT_THROW(assemble_apng({frame(1), encode_png(big.data(), 5, 3)}, 100), Error);
}

}  // namespace
}  // namespace cnnscope
