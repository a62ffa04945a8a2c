// .npy reader against files numpy.save wrote (every dtype, 0-d, empty, Fortran order, version 2.0)
// and writer byte for byte against numpy; malformed and truncated files rejected naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checkpoint/dtype.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "testing.h"

namespace cnnscope {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> oracle_names() {
  std::ifstream in(testing::fixture("common/npy_list.txt"));
  std::vector<std::string> names;
  std::string name;
  while (in >> name) names.push_back(name);
  return names;
}

// Checks `t` against the oracle's listing "dtype shape v0 v1 ...".
void expect_matches_listing(const at::Tensor& t, const std::string& listing_path) {
  std::istringstream in(slurp(listing_path));
  std::string dtype, shape;
  in >> dtype >> shape;
  EXPECT_EQ(dtype_name(t.scalar_type()), dtype) << listing_path;
  std::string got_shape;
  for (int64_t d : t.sizes()) got_shape += (got_shape.empty() ? "" : ",") + std::to_string(d);
  EXPECT_EQ(got_shape.empty() ? "-" : got_shape, shape) << listing_path;
  const at::Tensor flat = t.to(at::kDouble).contiguous().reshape({-1});
  const double* v = flat.data_ptr<double>();
  double want;
  int64_t k = 0;
  while (in >> want) {
    ASSERT_LT(k, flat.numel()) << listing_path;
    EXPECT_EQ(v[k], want) << listing_path << " [" << k << "]";
    ++k;
  }
  EXPECT_EQ(k, flat.numel()) << listing_path;
}

TEST(Npy, ReadsWhatNumpyWrote) {
  const auto names = oracle_names();
  ASSERT_GE(names.size(), 10u) << "oracle listing missing";
  for (const std::string& name : names)
    expect_matches_listing(read_npy(testing::fixture("common/npy_" + name + ".npy")),
                           testing::fixture("common/npy_" + name + ".txt"));
  expect_matches_listing(read_npy(testing::fixture("common/npy_fortran_v2.npy")),
                         testing::fixture("common/npy_fortran_v2.txt"));
}

TEST(Npy, WritesTheSameBytesAsNumpy) {
  for (const std::string& name : oracle_names()) {
    const std::string numpy_file = testing::fixture("common/npy_" + name + ".npy");
    const std::string ours = ::testing::TempDir() + "/npy_rewrite_" + name + ".npy";
    write_npy(ours, read_npy(numpy_file));
    EXPECT_EQ(slurp(ours), slurp(numpy_file)) << name;
  }
}

TEST(Npy, RoundTripsNonContiguousAndBFloat16) {
  const std::string path = ::testing::TempDir() + "/npy_roundtrip.npy";
  const at::Tensor t = at::randn({4, 6}).t();  // [6, 4], not contiguous
  write_npy(path, t);
  EXPECT_TRUE(read_npy(path).equal(t));
  const at::Tensor b = at::randn({5}).to(at::kBFloat16);
  write_npy(path, b);
  const at::Tensor back = read_npy(path);
  EXPECT_EQ(back.scalar_type(), at::kFloat);
  EXPECT_TRUE(back.equal(b.to(at::kFloat)));
}

TEST(Npy, MalformedFilesNameTheFile) {
  const std::string good = slurp(testing::fixture("common/npy_f32_chw.npy"));
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string bad_dtype = good;
  bad_dtype.replace(bad_dtype.find("<f4"), 3, ">f4");
  std::string bad_shape = good;
  bad_shape.replace(bad_shape.find("(3, 5, 4)"), 9, "(3, 5, 9)");
  const std::vector<Case> cases = {
      {"empty", ""},
      {"not_npy", "hello, this is text"},
      {"header_cut", good.substr(0, 40)},
      {"data_cut", good.substr(0, good.size() - 4)},
      {"big_endian", bad_dtype},
      {"shape_too_big", bad_shape},
  };
  for (const Case& c : cases) {
    const std::string path = ::testing::TempDir() + "/npy_bad_" + c.name + ".npy";
    write_file_atomic(path, c.bytes);
    try {
      read_npy(path);
      ADD_FAILURE() << "accepted " << c.name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_npy(::testing::TempDir() + "/npy_does_not_exist.npy"), Error);
}

TEST(Npy, WriterRefusesToOverwriteAnInput) {
  const std::string path = ::testing::TempDir() + "/npy_input_guard.npy";
  write_npy(path, at::zeros({2}));
  register_input(path);
  EXPECT_THROW(write_npy(path, at::ones({2})), Error);
  EXPECT_TRUE(read_npy(path).equal(at::zeros({2})));
}

}  // namespace
}  // namespace cnnscope
