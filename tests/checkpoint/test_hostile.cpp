// Checkpoints changed under the reader (red team): a state_dict loaded, then its file truncated in
// place by another program, still reads as loaded (tensors aliased a mapping of the file, and
// reading them after the truncation died with SIGBUS). Fixture: make_checkpoint_hostile.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "checkpoint/state_dict.h"
#include "testing.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

TEST(TruncatedCheckpoint, TensorsReadAsLoaded) {
  const fs::path copy =
      fs::temp_directory_path() / ("cnnscope_trunc_" + std::to_string(::getpid()) + ".pth");
  fs::copy_file(testing::fixture("hostile/medium.pth"), copy, fs::copy_options::overwrite_existing);
  const StateDict sd = load_state_dict(copy.string());
  ASSERT_EQ(sd.tensors.size(), 4u);
  // Each tensor's sum through a copy made before the truncation, then the tensor's own after it.
  std::vector<double> want;
  for (const NamedTensor& t : sd.tensors) want.push_back(t.tensor.clone().sum().item<double>());
  ASSERT_EQ(::truncate(copy.c_str(), 0), 0);
  for (size_t i = 0; i < sd.tensors.size(); ++i)
    EXPECT_EQ(sd.tensors[i].tensor.sum().item<double>(), want[i]) << sd.tensors[i].name;
  fs::remove(copy);
}

}  // namespace
}  // namespace cnnscope
