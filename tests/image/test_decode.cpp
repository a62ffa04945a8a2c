// decode_rgb against Pillow's Image.open(p).convert("RGB") on every oracle image (JPEG baseline,
// progressive, gray, CMYK; PNG 1/2/4/8/16-bit, gray, LA, palette, RGBA; real photos), and bad
// files.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/npy.h"
#include "image/decode.h"
#include "image/oracle_manifest.h"

namespace cnnscope {
namespace {

TEST(Decode, EqualsPillowConvertRgb) {
  const auto rows = testing::manifest("decode");
  ASSERT_GE(rows.size(), 30u) << "oracle manifest missing or short";
  for (const auto& row : rows) {
    const at::Tensor expected = read_npy(testing::image_fixture(row[1]));  // [H, W, 3] uint8
    const at::Tensor got = decode_rgb(testing::image_fixture(row[0]));
    ASSERT_EQ(got.sizes(), expected.sizes()) << row[0];
    const int64_t max_diff = (got.to(at::kInt) - expected.to(at::kInt)).abs().max().item<int64_t>();
    EXPECT_EQ(max_diff, 0) << row[0];
  }
}

TEST(Decode, RealPhotosArePresent) {
  int photos = 0;
  for (const auto& row : testing::manifest("decode")) photos += row[0].rfind("photo_", 0) == 0;
  EXPECT_GE(photos, 1) << "no sample photo found (matplotlib / scikit-image in the oracle venv)";
}

TEST(Decode, BadImagesFailWithOneLineNamingTheFile) {
  const auto rows = testing::manifest("bad");
  ASSERT_GE(rows.size(), 7u);
  for (const auto& row : rows) {
    const std::string path = testing::image_fixture(row[0]);
    try {
      decode_rgb(path);
      ADD_FAILURE() << "accepted " << row[0];
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(Decode, HugeHeadersAreRefusedBeforeAllocating) {
  for (const char* name : {"bad_huge.png", "bad_huge.jpg"}) {
    try {
      decode_rgb(testing::image_fixture(name));
      ADD_FAILURE() << "accepted " << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos) << e.what();
    }
  }
}

TEST(Decode, MissingFileIsAnError) {
  EXPECT_THROW(decode_rgb(testing::image_fixture("does-not-exist.jpg")), Error);
}

TEST(Decode, SniffsByContentNotExtension) {
  const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0};
  const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const uint8_t text[] = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(sniff_image(jpeg, sizeof(jpeg)), ImageKind::kJpeg);
  EXPECT_EQ(sniff_image(png, sizeof(png)), ImageKind::kPng);
  EXPECT_EQ(sniff_image(text, sizeof(text)), ImageKind::kUnknown);
  EXPECT_EQ(sniff_image(jpeg, 2), ImageKind::kUnknown);
}

}  // namespace
}  // namespace cnnscope
