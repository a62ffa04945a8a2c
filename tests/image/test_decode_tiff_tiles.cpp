// TIFF tile sizes are bounded before any buffer exists (red team): a 1x1 image declaring a
// 32768x32768 tile is refused in one line naming the tile, while a small image with an ordinary
// tile larger than itself (16x16 for 1x1) still decodes. The files are written here byte by byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/decode.h"

namespace cnnscope {
namespace {

// A little-endian, uncompressed, 8-bit gray, tiled TIFF of width x height pixels whose one tile
// is tile x tile pixels; `data` is the tile's stored bytes.
std::vector<uint8_t> tiled_tiff(uint32_t width, uint32_t height, uint32_t tile,
                                const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {'I', 'I', 42, 0, 8, 0, 0, 0};
  const auto u16 = [&](uint32_t v) {
    out.push_back(static_cast<uint8_t>(v));
    out.push_back(static_cast<uint8_t>(v >> 8));
  };
  const auto u32 = [&](uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  };
  constexpr uint32_t kShort = 3, kLong = 4, kEntries = 10;
  const uint32_t data_offset = 8 + 2 + kEntries * 12 + 4;
  const auto entry = [&](uint32_t tag, uint32_t type, uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == kShort) {
      u16(value);
      u16(0);
    } else {
      u32(value);
    }
  };
  u16(kEntries);
  entry(256, kLong, width);                               // ImageWidth
  entry(257, kLong, height);                              // ImageLength
  entry(258, kShort, 8);                                  // BitsPerSample
  entry(259, kShort, 1);                                  // Compression: none
  entry(262, kShort, 1);                                  // PhotometricInterpretation: min-is-black
  entry(277, kShort, 1);                                  // SamplesPerPixel
  entry(322, kLong, tile);                                // TileWidth
  entry(323, kLong, tile);                                // TileLength
  entry(324, kLong, data_offset);                         // TileOffsets
  entry(325, kLong, static_cast<uint32_t>(data.size()));  // TileByteCounts
  u32(0);                                                 // no next IFD
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(DecodeTiffTiles, HugeTileOfATinyImageIsRefusedBeforeAllocating) {
  const std::vector<uint8_t> file = tiled_tiff(1, 1, 32768, std::vector<uint8_t>(16, 7));
  try {
    decode_rgb_bytes("bomb.tif", file.data(), file.size());
    FAIL() << "expected Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("bomb.tif: ", 0), 0u) << what;
    EXPECT_NE(what.find("tile of 32768x32768 pixels for a 1x1 image"), std::string::npos) << what;
  }
}

TEST(DecodeTiffTiles, OrdinaryTileLargerThanTheImageDecodes) {
  std::vector<uint8_t> tile(16 * 16, 0);
  tile[0] = 200;
  const std::vector<uint8_t> file = tiled_tiff(1, 1, 16, tile);
  const at::Tensor rgb = decode_rgb_bytes("small.tif", file.data(), file.size());  // [1, 1, 3]
  ASSERT_EQ(rgb.sizes(), (c10::IntArrayRef{1, 1, 3}));
  EXPECT_EQ(rgb[0][0][0].item<int>(), 200);
  EXPECT_EQ(rgb[0][0][2].item<int>(), 200);
}

}  // namespace
}  // namespace cnnscope
