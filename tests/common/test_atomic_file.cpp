// common/atomic_file.h: outputs appear whole or not at all, leave no temporary behind, never
// replace a registered input, never write through a planted symlink; AtomicDir folders are moved in
// whole on commit (checked whole first: a refused commit moves nothing) and leave the target as
// it was without one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/stat.h>
#include <unistd.h>

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

TEST_F(AtomicFileTest, PlantedSymlinkAtTheOldTemporaryNameIsNotFollowed) {
  write_file_atomic(path("victim"), "secret");
  // The temporary used to be OUT.tmp.<pid>: a symlink planted there was written through.
  fs::create_symlink(path("victim"), path("out.bin") + ".tmp." + std::to_string(::getpid()));
  write_file_atomic(path("out.bin"), "output");
  EXPECT_EQ(slurp(path("victim")), "secret");
  EXPECT_EQ(slurp(path("out.bin")), "output");
  EXPECT_FALSE(fs::is_symlink(path("out.bin")));
}

TEST_F(AtomicFileTest, TemporaryNamesAreUnpredictableAndModeFollowsTheUmask) {
  std::string first, second;
  {
    AtomicFile a(path("out.bin"));
    AtomicFile b(path("out.bin"));
    for (const auto& e : fs::directory_iterator(dir_))
      (first.empty() ? first : second) = e.path().filename().string();
  }
  EXPECT_NE(first, second);
  EXPECT_EQ(first.rfind("out.bin.tmp-", 0), 0u) << first;
  EXPECT_EQ(entries(), 0u);
  const mode_t mask = ::umask(022);
  ::umask(mask);
  write_file_atomic(path("mode.bin"), "x");
  struct stat st {};
  ASSERT_EQ(::stat(path("mode.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST_F(AtomicFileTest, AtomicDirWithoutCommitLeavesTheTargetAsItWas) {
  make_output_dir(path("out/img"));
  write_file_atomic(path("out/img/conv1.png"), "old");
  {
    AtomicDir out(path("out"));
    make_output_dir(out.staging() + "/img");
    write_file_atomic(out.staging() + "/img/conv1.png", "new");
  }  // a failure midway: no commit
  EXPECT_EQ(slurp(path("out/img/conv1.png")), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(path("out")), fs::directory_iterator()), 1);
  {
    AtomicDir fresh(path("fresh"));
    write_file_atomic(fresh.staging() + "/a.png", "new");
  }
  EXPECT_FALSE(fs::exists(path("fresh")));  // created for the job, removed again
}

TEST_F(AtomicFileTest, AtomicDirCommitMovesEntriesIn) {
  make_output_dir(path("out/img"));
  write_file_atomic(path("out/img/conv1.png"), "old");
  write_file_atomic(path("out/keep.txt"), "mine");
  AtomicDir out(path("out") + "/");
  const std::string staging = out.staging();
  EXPECT_EQ(fs::path(staging).parent_path(), fs::path(path("out")));
  EXPECT_EQ(fs::path(staging).filename().string().rfind(".cnnscope-", 0), 0u) << staging;
  make_output_dir(staging + "/img");
  write_file_atomic(staging + "/img/conv1.png", "new");
  write_file_atomic(staging + "/img/conv2.png", "new2");
  EXPECT_EQ(out.final_path(staging + "/img/conv2.png"), path("out") + "/img/conv2.png");
  EXPECT_EQ(out.final_path("elsewhere.png"), "elsewhere.png");
  out.commit();
  EXPECT_EQ(slurp(path("out/img/conv1.png")), "new");
  EXPECT_EQ(slurp(path("out/img/conv2.png")), "new2");
  EXPECT_EQ(slurp(path("out/keep.txt")), "mine");
  EXPECT_FALSE(fs::exists(staging));
}

TEST_F(AtomicFileTest, AtomicDirCommitRefusedLeavesEverythingAsItWas) {
  make_output_dir(path("out/img"));
  write_file_atomic(path("out/img/conv1.png"), "old");
  write_file_atomic(path("out/input.json"), "read by the job");
  write_file_atomic(path("out/table"), "a file where the job makes a folder");
  register_input(path("out/input.json"));
  for (const std::string& clash : {"input.json", "table/a.csv"}) {
    SCOPED_TRACE(clash);
    AtomicDir out(path("out"));
    make_output_dir(out.staging() + "/img");
    write_file_atomic(out.staging() + "/img/conv1.png", "new");
    make_output_dir((fs::path(out.staging()) / clash).parent_path().string());
    write_file_atomic(out.staging() + "/" + clash, "new");
    EXPECT_THROW(out.commit(), Error);
    EXPECT_EQ(slurp(path("out/img/conv1.png")), "old");  // checked whole before any move
    EXPECT_EQ(slurp(path("out/input.json")), "read by the job");
    EXPECT_EQ(slurp(path("out/table")), "a file where the job makes a folder");
  }
  release_input(path("out/input.json"));
  EXPECT_THROW(AtomicDir(""), Error);
}

}  // namespace
}  // namespace cnnscope
