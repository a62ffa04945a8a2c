// safetensors reader against the oracle's file: names in file order, dtypes, shapes, exact values;
// and malformed headers rejected with the file named.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "testing.h"

namespace cnnscope {
namespace {

TEST(Safetensors, MatchesOracleExactly) {
  const std::string path = testing::fixture("dtypes.safetensors");
  StateDict sd = load_state_dict(path);
  EXPECT_EQ(sd.format, "safetensors");
  std::ifstream expect(path + ".txt");
  std::string line;
  size_t i = 0;
  while (std::getline(expect, line)) {
    std::istringstream in(line);
    std::string name, dtype, shape;
    in >> name >> dtype >> shape;
    ASSERT_LT(i, sd.tensors.size());
    const NamedTensor& t = sd.tensors[i++];
    EXPECT_EQ(t.name, name);
    EXPECT_EQ(dtype_name(t.tensor.scalar_type()), dtype) << name;
    std::string got_shape;
    for (int64_t d : t.tensor.sizes())
      got_shape += (got_shape.empty() ? "" : ",") + std::to_string(d);
    EXPECT_EQ(got_shape.empty() ? "-" : got_shape, shape) << name;
    at::Tensor flat = t.tensor.to(at::kDouble).flatten();
    double v;
    int64_t k = 0;
    while (in >> v) EXPECT_EQ(flat[k++].item<double>(), v) << name << "[" << k - 1 << "]";
    EXPECT_EQ(k, flat.numel()) << name;
  }
  EXPECT_EQ(i, sd.tensors.size());
}

TEST(Safetensors, OffsetsPastTheEndAreRejected) {
  const std::string path = ::testing::TempDir() + "/bad.safetensors";
  std::string header = R"({"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}})";
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  for (int b = 0; b < 8; ++b) bytes[b] = static_cast<char>((n >> (8 * b)) & 0xff);
  write_file_atomic(path, bytes + header + std::string(16, '\0'));
  try {
    load_state_dict(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, EmptyAndMissingFilesAreErrors) {
  const std::string empty = ::testing::TempDir() + "/empty.pth";
  write_file_atomic(empty, "");
  EXPECT_THROW(load_state_dict(empty), Error);
  EXPECT_THROW(load_state_dict(::testing::TempDir() + "/does-not-exist.pth"), Error);
}

}  // namespace
}  // namespace cnnscope
