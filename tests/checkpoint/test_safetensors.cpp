// safetensors reader against the oracle's file: names in file order, dtypes, shapes, exact values;
// and malformed headers rejected with the file named.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checkpoint/dtype.h"
#include "checkpoint/oracle_listing.h"
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
  testing::expect_matches_listing(sd, path + ".txt");
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
