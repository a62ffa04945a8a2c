// The rebuilt network as a table, as `summary` prints it and `report` embeds it: every module of
// named_modules() with its output shape for one input, parameters and multiply-adds (torchinfo's
// convention: convolutions and linears only, containers summing the leaves under them).
// Leaves out: memory estimates, and mult-adds of other layer types (batch norm, pooling).
#pragma once

#include <cstdint>
#include <vector>

#include "models/network.h"

namespace cnnscope::app {

struct SummaryRow {
  const models::TapInfo* tap = nullptr;  // points into the network's taps()
  std::vector<int64_t> output_shape;     // for the summary's input; empty when it did not run
  bool ran = true;  // false: the forward never calls it (ShuffleNet's empty branch1, ...)
  int64_t mult_adds = 0;
};

struct Summary {
  std::vector<int64_t> input_shape;   // [1, 3, N, N]
  std::vector<int64_t> output_shape;  // the logits' shape
  std::vector<SummaryRow> rows;       // named_modules() order
  int64_t params = 0;
  int64_t mult_adds = 0;  // total over the leaves
};

constexpr int64_t kDefaultSummaryInputSize = 224;

// One forward of zeros [1, 3, input_size, input_size]. Throws Error when input_size is not in
// 1..4096 or the network cannot take that size.
Summary summarize(const models::Network& net, int64_t input_size = kDefaultSummaryInputSize);

}  // namespace cnnscope::app
