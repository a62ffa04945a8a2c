// TensorBoard event writer: a small documented protobuf encoder (only the wire types these five
// messages need), TFRecord framing with Boost.CRC's CRC32C. Leaves out reading and graph events.
// Follows protobuf's wire format (varint, 64-bit, length-delimited, 32-bit; proto3 defaults
// omitted).
#include "export/tensorboard.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/crc.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope {
namespace {

constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
constexpr char kFileVersion[] = "brain.Event:2";
constexpr int kDtString = 7;  // tensorboard DataType DT_STRING (types.proto)
constexpr char kTextPlugin[] = "text";
constexpr size_t kHostNameMax = 256;

// Field numbers, from tensorboard/compat/proto/{event,summary,histogram,tensor,tensor_shape}.proto.
namespace event {
constexpr int kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5;
}
namespace summary {
constexpr int kValue = 1;
}
namespace value {
constexpr int kTag = 1, kSimpleValue = 2, kImage = 4, kHisto = 5, kTensor = 8, kMetadata = 9;
}
namespace histo {
constexpr int kMin = 1, kMax = 2, kNum = 3, kSum = 4, kSumSquares = 5, kBucketLimit = 6,
              kBucket = 7;
}
namespace image {
constexpr int kHeight = 1, kWidth = 2, kColorspace = 3, kEncoded = 4;
}
namespace tensor {
constexpr int kDtype = 1, kShape = 2, kStringVal = 8;
}
namespace shape {
constexpr int kDim = 2, kDimSize = 1;
}
namespace metadata {
constexpr int kPluginData = 1, kPluginName = 1;
}

// Protobuf wire types.
enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Appends protobuf fields to a byte string. The `*_field` helpers omit proto3 default values (0,
// empty), as protobuf's own serializers do; `oneof` members are written with `always = true`.
class ProtoWriter {
 public:
  void varint_field(int field, uint64_t v) {
    if (v == 0) return;
    key(field, kVarint);
    varint(v);
  }
  void double_field(int field, double v, bool always = false) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    if (bits == 0 && !always) return;
    key(field, kFixed64);
    fixed(bits, sizeof bits);
  }
  void float_field(int field, float v, bool always = false) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    if (bits == 0 && !always) return;
    key(field, kFixed32);
    fixed(bits, sizeof bits);
  }
  void bytes_field(int field, std::string_view v, bool always = false) {
    if (v.empty() && !always) return;
    key(field, kLengthDelimited);
    varint(v.size());
    out_.append(v);
  }
  void packed_doubles(int field, const std::vector<double>& values) {
    if (values.empty()) return;
    key(field, kLengthDelimited);
    varint(values.size() * sizeof(double));
    for (double v : values) {
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      fixed(bits, sizeof bits);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  void key(int field, Wire wire) { varint((static_cast<uint64_t>(field) << 3) | wire); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void fixed(uint64_t bits, size_t bytes) {  // little-endian
    for (size_t i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  std::string out_;
};

void append_le(std::string& out, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Summary { value: [Value { tag, <payload>, metadata? }] } for one value.
std::string one_value_summary(const std::string& tag, const std::string& value_fields) {
  ProtoWriter v;
  v.bytes_field(value::kTag, tag);
  std::string value_bytes = v.take() + value_fields;
  ProtoWriter s;
  s.bytes_field(summary::kValue, value_bytes, true);
  return s.take();
}

struct PngHeader {
  uint32_t width = 0, height = 0;
  int colorspace = 0;  // Summary.Image: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
};

uint32_t big_endian_u32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// Reads the IHDR chunk that every PNG starts with (PNG spec, section 11.2.2).
PngHeader read_png_header(const std::string& tag, std::string_view png) {
  static constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  constexpr size_t kIhdrEnd = 26;  // signature 8 + length 4 + "IHDR" 4 + width, height, depth, type
  if (png.size() < kIhdrEnd || png.substr(0, kSignature.size()) != kSignature ||
      png.substr(12, 4) != "IHDR")
    fail("", "TensorBoard image '" + tag + "': expected PNG bytes, got " +
                 std::to_string(png.size()) + " bytes without a PNG header");
  PngHeader h;
  h.width = big_endian_u32(png, 16);
  h.height = big_endian_u32(png, 20);
  switch (static_cast<unsigned char>(png[25])) {
    case 0:
      h.colorspace = 1;
      break;
    case 4:
      h.colorspace = 2;
      break;
    case 6:
      h.colorspace = 4;
      break;
    default:
      h.colorspace = 3;
      break;  // 2 truecolour, 3 palette: RGB
  }
  return h;
}

std::string host_name() {
  std::array<char, kHostNameMax> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf.data();
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta;
}

std::string tfrecord_frame(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_le(out, data.size(), 8);
  append_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out.append(data);
  append_le(out, masked_crc32c(data), 4);
  return out;
}

HistogramSummary histogram_summary(const at::Tensor& values, std::vector<double> edges,
                                   std::vector<double> counts) {
  if (values.numel() == 0) fail("", "histogram of an empty tensor", "skip empty tensors");
  if (counts.empty() || edges.size() != counts.size() + 1)
    fail("", "histogram: expected bins + 1 edges, got " + std::to_string(edges.size()) +
                 " edges for " + std::to_string(counts.size()) + " bins");
  at::Tensor v = values.detach().to(at::kDouble).flatten();  // [N]
  v = v.masked_select(at::isfinite(v));                      // [finite]
  if (v.numel() == 0) fail("", "histogram of a tensor without finite values");
  HistogramSummary h;
  h.min = v.min().item<double>();
  h.max = v.max().item<double>();
  h.num = static_cast<double>(v.numel());
  h.sum = v.sum().item<double>();
  h.sum_squares = (v * v).sum().item<double>();
  h.edges = std::move(edges);
  h.counts = std::move(counts);
  return h;
}

EventWriter::EventWriter(const EventWriterOptions& options) : fixed_wall_time_(options.wall_time) {
  static std::atomic<int> file_counter{0};
  make_output_dir(options.dir);
  const auto seconds = static_cast<long long>(now());
  const std::string host = options.host.empty() ? host_name() : options.host;
  path_ = options.dir + "/events.out.tfevents." + fmt::format("{:010d}", seconds) + "." + host +
          "." + std::to_string(::getpid()) + "." + std::to_string(file_counter++);
  file_ = std::make_unique<AtomicFile>(path_);
  ProtoWriter header;
  header.double_field(event::kWallTime, now());
  header.bytes_field(event::kFileVersion, kFileVersion);
  file_->write(tfrecord_frame(header.take()));
}

EventWriter::~EventWriter() = default;

double EventWriter::now() const {
  if (fixed_wall_time_ > 0) return fixed_wall_time_;
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

void EventWriter::write_event(const std::string& summary, int64_t step) {
  if (!file_) fail(path_, "event file already closed");
  ProtoWriter e;
  e.double_field(event::kWallTime, now());
  e.varint_field(event::kStep, static_cast<uint64_t>(step));
  e.bytes_field(event::kSummary, summary, true);
  file_->write(tfrecord_frame(e.take()));
}

void EventWriter::add_scalar(const std::string& tag, float value, int64_t step) {
  ProtoWriter v;
  v.float_field(value::kSimpleValue, value, true);
  write_event(one_value_summary(tag, v.take()), step);
}

void EventWriter::add_histogram(const std::string& tag, const HistogramSummary& h, int64_t step) {
  if (h.counts.empty() || h.edges.size() != h.counts.size() + 1)
    fail(path_, "histogram '" + tag + "': expected bins + 1 edges, got " +
                    std::to_string(h.edges.size()) + " for " + std::to_string(h.counts.size()));
  ProtoWriter p;
  p.double_field(histo::kMin, h.min);
  p.double_field(histo::kMax, h.max);
  p.double_field(histo::kNum, h.num);
  p.double_field(histo::kSum, h.sum);
  p.double_field(histo::kSumSquares, h.sum_squares);
  p.packed_doubles(histo::kBucketLimit, std::vector<double>(h.edges.begin() + 1, h.edges.end()));
  p.packed_doubles(histo::kBucket, h.counts);
  ProtoWriter v;
  v.bytes_field(value::kHisto, p.take(), true);
  write_event(one_value_summary(tag, v.take()), step);
}

void EventWriter::add_weight_histogram(const std::string& name, const at::Tensor& values,
                                       const Histogram& histogram, int64_t step) {
  add_histogram("weights/" + name,
                histogram_summary(values, histogram.edges,
                                  {histogram.counts.begin(), histogram.counts.end()}),
                step);
}

void EventWriter::add_image(const std::string& tag, std::string_view png, int64_t step) {
  const PngHeader header = read_png_header(tag, png);
  ProtoWriter img;
  img.varint_field(image::kHeight, header.height);
  img.varint_field(image::kWidth, header.width);
  img.varint_field(image::kColorspace, static_cast<uint64_t>(header.colorspace));
  img.bytes_field(image::kEncoded, png);
  ProtoWriter v;
  v.bytes_field(value::kImage, img.take(), true);
  write_event(one_value_summary(tag, v.take()), step);
}

void EventWriter::add_image_file(const std::string& tag, const std::string& png_path,
                                 int64_t step) {
  std::ifstream in(png_path, std::ios::binary);
  if (!in) fail(png_path, "cannot read the figure for TensorBoard image '" + tag + "'");
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  add_image(tag, png, step);
}

void EventWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
  ProtoWriter dim;
  dim.varint_field(shape::kDimSize, 1);
  ProtoWriter shape_proto;
  shape_proto.bytes_field(shape::kDim, dim.take(), true);
  ProtoWriter t;
  t.varint_field(tensor::kDtype, kDtString);
  t.bytes_field(tensor::kShape, shape_proto.take(), true);
  t.bytes_field(tensor::kStringVal, text, true);
  ProtoWriter plugin;
  plugin.bytes_field(metadata::kPluginName, kTextPlugin);
  ProtoWriter meta;
  meta.bytes_field(metadata::kPluginData, plugin.take(), true);
  ProtoWriter v;
  v.bytes_field(value::kTensor, t.take(), true);
  v.bytes_field(value::kMetadata, meta.take(), true);
  write_event(one_value_summary(tag, v.take()), step);
}

std::string EventWriter::close() {
  if (!file_) fail(path_, "event file already closed");
  file_->commit();
  file_.reset();
  return path_;
}

}  // namespace cnnscope
