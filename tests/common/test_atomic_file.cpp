// common/atomic_file.h: outputs appear whole or not at all, leave no temporary behind, and never
// replace a registered input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cnnscope_atomic_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  size_t entries() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, CommitReplacesTheTargetWhole) {
  write_file_atomic(path("out.bin"), "old");
  write_file_atomic(path("out.bin"), std::string("new\0bytes", 9));
  EXPECT_EQ(slurp(path("out.bin")), std::string("new\0bytes", 9));
  EXPECT_EQ(entries(), 1u);  // no temporary left
}

TEST_F(AtomicFileTest, UncommittedLeavesNothing) {
  {
    AtomicFile f(path("half.bin"));
    f.write("partial");
  }
  EXPECT_FALSE(fs::exists(path("half.bin")));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFileTest, RefusesToOverwriteARegisteredInput) {
  write_file_atomic(path("input.pth"), "checkpoint");
  register_input(path("input.pth"));
  EXPECT_THROW(write_file_atomic(path("input.pth"), "x"), Error);
  // Another name for the same file (a hard link) is the same input.
  fs::create_hard_link(path("input.pth"), path("alias.pth"));
  EXPECT_THROW(write_file_atomic(path("alias.pth"), "x"), Error);
  EXPECT_EQ(slurp(path("input.pth")), "checkpoint");
}

TEST_F(AtomicFileTest, OutputDirErrorsNameTheFolder) {
  write_file_atomic(path("file"), "x");
  try {
    make_output_dir(path("file") + "/sub");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file/sub"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cnnscope
