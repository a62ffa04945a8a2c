// TensorBoard event files: TFRecord framing (u64 length, masked CRC32C) of `tensorboard.Event`
// protos holding scalars, histograms, PNG images and text. Leaves out graphs, audio, embeddings.
// Follows tensorboard/compat/proto/{event,summary,tensor}.proto and TFRecord's record format.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stats/histogram.h"

namespace cnnscope {

class AtomicFile;

// CRC32C (Castagnoli) of `data`, and TFRecord's mask of it: ((crc >> 15) | (crc << 17)) +
// 0xa282ead8.
uint32_t crc32c(std::string_view data);
uint32_t masked_crc32c(std::string_view data);

// One TFRecord: u64 LE length, u32 LE masked CRC of those 8 bytes, data, u32 LE masked CRC of data.
std::string tfrecord_frame(std::string_view data);

// A histogram as numpy.histogram(values, bins) gives it, plus the moments HistogramProto stores.
// TensorBoard reads bucket i as (edges[i], edges[i+1]] with min and max as the outer edges.
struct HistogramSummary {
  double min = 0, max = 0;
  double num = 0;  // number of values
  double sum = 0, sum_squares = 0;
  std::vector<double> edges;   // [bins + 1]
  std::vector<double> counts;  // [bins]
};

// The moments (min, max, num, sum, sum of squares, in float64) of the finite values of `values`
// (NaN/Inf left out, as stats/histogram.h does), any floating or integer dtype, with the given
// numpy.histogram edges and counts. Throws Error on bad sizes or no finite value.
HistogramSummary histogram_summary(const at::Tensor& values, std::vector<double> edges,
                                   std::vector<double> counts);

struct EventWriterOptions {
  std::string dir;       // created if missing
  double wall_time = 0;  // seconds since the epoch for every event and the file name; 0: now
  std::string host;      // for the file name; empty: gethostname()
};

// Writes one `events.out.tfevents.<secs>.<host>.<pid>.<n>` file into a directory. The first event
// is the `brain.Event:2` header. Nothing appears under the final name before close().
class EventWriter {
 public:
  explicit EventWriter(const EventWriterOptions& options);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void add_scalar(const std::string& tag, float value, int64_t step = 0);
  void add_histogram(const std::string& tag, const HistogramSummary& histogram, int64_t step = 0);
  // `png`: PNG file bytes; width, height and colour space are read from its IHDR chunk.
  void add_image(const std::string& tag, std::string_view png, int64_t step = 0);
  // The same from a PNG file on disk; throws Error naming the file when it cannot be read.
  void add_image_file(const std::string& tag, const std::string& png_path, int64_t step = 0);
  // A UTF-8 (markdown) text summary for TensorBoard's Text tab.
  void add_text(const std::string& tag, const std::string& text, int64_t step = 0);

  // A weight tensor's histogram as "weights/<name>" (the tag weights, report, train and evolve
  // share), from the bins stats/histogram.h computed for `values`.
  void add_weight_histogram(const std::string& name, const at::Tensor& values,
                            const Histogram& histogram, int64_t step = 0);

  // Renames the file into place and returns its path. Call once.
  std::string close();
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& summary, int64_t step);
  double now() const;

  double fixed_wall_time_;
  std::string path_;
  std::unique_ptr<AtomicFile> file_;
};

}  // namespace cnnscope
