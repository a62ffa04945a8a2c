// TensorBoard writer against the oracle (protobuf + crc32c from PyPI): the same events give
// the same bytes; framing and CRC checked by decoding; bad PNGs, bad histograms, unwritable dirs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "export/tensorboard.h"
#include "testing.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;  // '=' padding
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

uint64_t le(const std::string& s, size_t at, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i)
    v |= uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/tb_" + name;
  fs::remove_all(dir);
  return dir;
}

EventWriterOptions in_dir(const std::string& dir) {
  EventWriterOptions options;
  options.dir = dir;
  return options;
}

TEST(TensorBoard, Crc32cCheckValue) {
  // The CRC-32C catalogue check value of "123456789" (RFC 3720, appendix B.4 parameters).
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(TensorBoard, FramingRoundTrip) {
  const std::string data = "hello, event";
  const std::string rec = tfrecord_frame(data);
  ASSERT_EQ(rec.size(), data.size() + 16);
  EXPECT_EQ(le(rec, 0, 8), data.size());
  EXPECT_EQ(le(rec, 8, 4), masked_crc32c(rec.substr(0, 8)));
  EXPECT_EQ(rec.substr(12, data.size()), data);
  EXPECT_EQ(le(rec, 12 + data.size(), 4), masked_crc32c(data));
  const uint32_t crc = crc32c(data);
  EXPECT_EQ(masked_crc32c(data), ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST(TensorBoard, SameBytesAsProtobufOracle) {
  const nlohmann::json spec =
      nlohmann::json::parse(read_all(testing::fixture("tensorboard/spec.json")));
  const std::string dir = fresh_dir("oracle");
  EventWriter writer({dir, spec["wall_time"].get<double>(), spec["host"].get<std::string>()});
  for (const auto& e : spec["entries"]) {
    const std::string kind = e["kind"], tag = e["tag"];
    const int64_t step = e["step"];
    if (kind == "scalar") {
      writer.add_scalar(tag, e["value"].get<float>(), step);
    } else if (kind == "histogram") {
      const std::vector<float> values = e["values"];
      at::Tensor t = torch::tensor(values, torch::kFloat32);  // [N]
      writer.add_histogram(tag, histogram_summary(t, e["edges"], e["counts"]), step);
    } else if (kind == "image") {
      writer.add_image(tag, base64_decode(e["png_base64"]), step);
    } else {
      writer.add_text(tag, e["text"], step);
    }
  }
  const std::string path = writer.close();
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(dir));
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.1700000000.oracle.", 0),
            0u)
      << path;
  const std::string got = read_all(path);
  const std::string want = read_all(testing::fixture("tensorboard/expected.tfevents"));
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "event bytes differ from protobuf's serialization";
  // Walk the records: every length and data CRC checks out.
  size_t pos = 0, records = 0;
  while (pos < got.size()) {
    ASSERT_LE(pos + 12, got.size());
    const uint64_t n = le(got, pos, 8);
    EXPECT_EQ(le(got, pos + 8, 4), masked_crc32c(got.substr(pos, 8)));
    ASSERT_LE(pos + 16 + n, got.size());
    EXPECT_EQ(le(got, pos + 12 + n, 4), masked_crc32c(got.substr(pos + 12, n)));
    pos += 16 + n;
    ++records;
  }
  EXPECT_EQ(records, spec["entries"].size() + 1);  // + the brain.Event:2 header
}

TEST(TensorBoard, HistogramMomentsInFloat64) {
  at::Tensor t = torch::tensor({1.5f, -2.0f, 0.25f, 3.0f});  // [4]
  HistogramSummary h = histogram_summary(t, {-2, 0.5, 3}, {1, 3});
  EXPECT_EQ(h.min, -2.0);
  EXPECT_EQ(h.max, 3.0);
  EXPECT_EQ(h.num, 4.0);
  EXPECT_DOUBLE_EQ(h.sum, 2.75);
  EXPECT_DOUBLE_EQ(h.sum_squares, 2.25 + 4 + 0.0625 + 9);
  EXPECT_THROW(histogram_summary(t, {0, 1}, {1, 2}), Error);
  EXPECT_THROW(histogram_summary(torch::zeros({0}), {0, 1}, {0}), Error);
}

TEST(TensorBoard, NothingVisibleUntilClose) {
  const std::string dir = fresh_dir("atomic");
  {
    EventWriter writer(in_dir(dir));
    writer.add_scalar("x", 1.0f);
    for (const auto& entry : fs::directory_iterator(dir))
      EXPECT_EQ(entry.path().string().find(writer.path()), 0u);  // only the temporary
    EXPECT_FALSE(fs::exists(writer.path()));
  }  // destroyed without close(): no file at all
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(TensorBoard, RejectsNonPngImage) {
  EventWriter writer(in_dir(fresh_dir("badpng")));
  try {
    writer.add_image("features/x", "GIF89a not a png");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("features/x"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("PNG"), std::string::npos) << e.what();
  }
}

TEST(TensorBoard, UnwritableDirectoryNamed) {
  const std::string file = ::testing::TempDir() + "/tb_plain_file";
  std::ofstream(file) << "x";
  try {
    EventWriter writer(in_dir(file + "/sub"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cnnscope
