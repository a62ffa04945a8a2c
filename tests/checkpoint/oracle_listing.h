// The checkpoint tests' one comparison with the oracle's listing files (`<fixture>.txt`: one line
// per tensor, "name dtype shape v0 v1 ...", shape as "a,b,c" or "-" for 0-d), as torch.load or
// the oracle's own safetensors writer saw them: names in order, dtypes, shapes, exact values.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"

namespace cnnscope::testing {

inline void expect_matches_listing(const StateDict& sd, const std::string& listing_path) {
  std::ifstream expect(listing_path);
  ASSERT_TRUE(expect) << "missing oracle file " << listing_path;
  std::string line;
  size_t i = 0;
  while (std::getline(expect, line)) {
    std::istringstream in(line);
    std::string name, dtype, shape;
    in >> name >> dtype >> shape;
    ASSERT_LT(i, sd.tensors.size()) << "oracle has more tensors, next: " << name;
    const NamedTensor& t = sd.tensors[i++];
    EXPECT_EQ(t.name, name);
    EXPECT_EQ(dtype_name(t.tensor.scalar_type()), dtype) << name;
    std::string got_shape;
    for (int64_t d : t.tensor.sizes())
      got_shape += (got_shape.empty() ? "" : ",") + std::to_string(d);
    EXPECT_EQ(got_shape.empty() ? "-" : got_shape, shape) << name;
    const at::Tensor flat = t.tensor.to(at::kDouble).flatten();  // [numel]
    double v;
    int64_t k = 0;
    while (in >> v) {
      ASSERT_LT(k, flat.numel()) << name;
      EXPECT_EQ(flat[k++].item<double>(), v) << name << "[" << k - 1 << "]";
    }
    EXPECT_EQ(k, flat.numel()) << name;
  }
  EXPECT_EQ(i, sd.tensors.size());
}

}  // namespace cnnscope::testing
