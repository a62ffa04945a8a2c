// common/installation.h: the executable's own path, no data folder in a build tree, and the
// LibTorch that is loaded (its version equal to the headers', its library a file that exists).
#include "common/installation.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace cnnscope {
namespace {

TEST(Installation, ExecutableIsThisTest) {
  const std::filesystem::path exe = executable_path();
  EXPECT_TRUE(exe.is_absolute());
  EXPECT_EQ(exe.filename(), "test_common");
  EXPECT_TRUE(std::filesystem::is_regular_file(exe));
}

TEST(Installation, BuildTreeHasNoDataFolder) {
  // build/test_common -> <source>/share/cnnscope, which the repository does not have.
  EXPECT_EQ(installed_data_dir(), std::filesystem::path());
}

TEST(Installation, LibTorchIsTheOneLoaded) {
  const LibTorchInfo info = libtorch_info();
  EXPECT_EQ(info.version, info.built_against);
  EXPECT_FALSE(info.version.empty());
  const std::filesystem::path library(info.library);
  EXPECT_TRUE(library.is_absolute()) << info.library;
  EXPECT_TRUE(std::filesystem::is_regular_file(library)) << info.library;
  EXPECT_EQ(library.filename().string().rfind("libtorch_cpu.so", 0), 0u) << info.library;
}

}  // namespace
}  // namespace cnnscope
