// The rebuilt network as a table, as `summary` prints it and `report` embeds it: every module of
// named_modules() with its output shape for one input, parameters and multiply-adds (torchinfo's
// convention: convolutions and linears only, containers summing the leaves under them).
// Leaves out: memory estimates, and mult-adds of other layer types (batch norm, pooling).
#pragma once

#include <cstdint>
#include <vector>

#include "image/input.h"
#include "models/network.h"

namespace cnnscope::app {

struct SummaryRow {
  const models::TapInfo* tap = nullptr;  // points into the network's taps()
  std::vector<int64_t> output_shape;     // for the summary's input; empty when it did not run
  bool ran = true;  // false: no tensor (never called, as ShuffleNet's empty branch1, or no single
                    // tensor returned)
  int64_t mult_adds = 0;
};

struct Summary {
  std::string root;                  // the network's class name, as print(model) starts ("AlexNet")
  std::vector<int64_t> input_shape;  // [1, C, N, N]
  std::vector<int64_t> output_shape;  // the logits' shape
  std::vector<SummaryRow> rows;       // named_modules() order
  int64_t params = 0;
  int64_t mult_adds = 0;  // total over the leaves
};

constexpr int64_t kDefaultSummaryInputSize = 224;  // without a preset size

// The side of the square input `p` makes: its crop, else its fixed or shorter-side resize, else
// kDefaultSummaryInputSize.
int64_t input_size_of(const PreprocessOptions& p);

// The input size a summary uses by default: the network's own size, else its default preset's
// (input_size_of), e.g. 224 for ImageNet nets, 32 for the CIFAR tutorial nets, 28 for MNIST's Net.
int64_t default_input_size(const models::Network& net);

// One forward of zeros [1, C, input_size, input_size] (C: the network's input channels). Throws
// Error when input_size is not in 1..4096 or the network cannot take that size.
Summary summarize(const models::Network& net, int64_t input_size);
// At default_input_size(net).
Summary summarize(const models::Network& net);

}  // namespace cnnscope::app
