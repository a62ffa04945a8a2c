// decode_rgb against Pillow's Image.open(p).convert("RGB") on tests/oracle/make_image_formats.py's
// files: BMP, GIF, WebP and TIFF of every mode the oracle makes (max difference 0), and the files
// Pillow refuses (cut short, bomb-sized headers), which must be refused in one line naming the
// file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/npy.h"
#include "image/decode.h"
#include "image/oracle_manifest.h"

namespace cnnscope {
namespace {

TEST(DecodeFormats, EqualsPillowConvertRgb) {
  const auto rows = testing::manifest("decode", "image/formats");
  ASSERT_GE(rows.size(), 40u) << "formats manifest missing or short";
  for (const char* ext : {".bmp", ".gif", ".webp", ".tif"}) {
    int n = 0;
    for (const auto& row : rows) n += row[0].find(ext) != std::string::npos;
    EXPECT_GE(n, 4) << ext;
  }
  for (const auto& row : rows) {
    const at::Tensor expected = read_npy(testing::image_fixture("formats/" + row[1]));  // [H,W,3]
    at::Tensor got;
    try {
      got = decode_rgb(testing::image_fixture("formats/" + row[0]));
    } catch (const Error& e) {
      ADD_FAILURE() << row[0] << ": Pillow decodes it, cnnscope refused: " << e.what();
      continue;
    }
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0];
    const int64_t max_diff = (got.to(at::kInt) - expected.to(at::kInt)).abs().max().item<int64_t>();
    EXPECT_EQ(max_diff, 0) << row[0];
  }
}

TEST(DecodeFormats, RefusesWhatPillowRefusesInOneLine) {
  const auto rows = testing::manifest("bad", "image/formats");
  ASSERT_GE(rows.size(), 10u);
  for (const auto& row : rows) {
    const std::string path = testing::image_fixture("formats/" + row[0]);
    try {
      decode_rgb(path);
      ADD_FAILURE() << "accepted " << row[0] << " (Pillow: " << row[1] << ")";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      if (row[1] == "DecompressionBombError")
        EXPECT_NE(message.find("too large"), std::string::npos) << message;
    }
  }
}

TEST(DecodeFormats, SniffsEveryFormat) {
  const uint8_t bmp[] = {'B', 'M', 0, 0};
  const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a'};
  const uint8_t webp[] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
  const uint8_t tiff_le[] = {'I', 'I', 0x2a, 0};
  const uint8_t tiff_be[] = {'M', 'M', 0, 0x2a};
  EXPECT_EQ(sniff_image(bmp, sizeof(bmp)), ImageKind::kBmp);
  EXPECT_EQ(sniff_image(gif, sizeof(gif)), ImageKind::kGif);
  EXPECT_EQ(sniff_image(gif, 5), ImageKind::kUnknown);
  EXPECT_EQ(sniff_image(webp, sizeof(webp)), ImageKind::kWebp);
  EXPECT_EQ(sniff_image(tiff_le, sizeof(tiff_le)), ImageKind::kTiff);
  EXPECT_EQ(sniff_image(tiff_be, sizeof(tiff_be)), ImageKind::kTiff);
}

}  // namespace
}  // namespace cnnscope
