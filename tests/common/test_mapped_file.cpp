// MappedFile and require_regular_file (red team): the whole file in private memory, so a file
// truncated by another program after open() reads as it was (a mapping died with SIGBUS); FIFOs,
// devices, folders and /proc files refused in one Error before anything blocks (a FIFO's open()
// blocked forever: alarm() turns such a regression into a failure).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kAlarmSeconds = 30;

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cnnscope_mapped_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ::alarm(kAlarmSeconds);
  }
  void TearDown() override {
    ::alarm(0);
    fs::remove_all(dir_);
  }
  std::string write(const std::string& name, size_t size) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path, std::ios::binary);
    for (size_t i = 0; i < size; ++i) out.put(static_cast<char>(i * 7 + 3));
    return path;
  }
  // The Error message of MappedFile::open(path), or "" when it opened.
  static std::string open_error(const std::string& path) {
    try {
      MappedFile::open(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(MappedFileTest, ReadsTheWholeFileAligned) {
  const size_t size = (1 << 20) + 13;
  auto file = MappedFile::open(write("a.bin", size));
  ASSERT_EQ(file->size(), size);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->data()) % 64, 0u);
  for (size_t i = 0; i < size; ++i)
    ASSERT_EQ(file->data()[i], static_cast<uint8_t>(i * 7 + 3)) << i;
  EXPECT_EQ(MappedFile::open(write("empty.bin", 0))->size(), 0u);
}

TEST_F(MappedFileTest, TruncatedAfterOpenStillReadsAsOpened) {
  const size_t size = 4 << 20;
  const std::string path = write("b.bin", size);
  auto file = MappedFile::open(path);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  uint64_t sum = 0, want = 0;
  for (size_t i = 0; i < size; ++i) {
    sum += file->data()[i];  // a mapping of the truncated file: SIGBUS here
    want += static_cast<uint8_t>(i * 7 + 3);
  }
  EXPECT_EQ(sum, want);
}

TEST_F(MappedFileTest, RefusesWhatIsNotARegularFile) {
  const std::string fifo = (dir_ / "pipe.pth").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(open_error(fifo), fifo + ": not a regular file (a FIFO; give a file)");
  EXPECT_EQ(open_error(dir_.string()),
            dir_.string() + ": not a regular file (a folder; give a file)");
  EXPECT_EQ(open_error("/dev/null"),
            "/dev/null: not a regular file (a character device; give a file)");
  EXPECT_EQ(open_error("/proc/self/status"),
            "/proc/self/status: not a regular file (a /proc file; give a file)");
  EXPECT_NE(open_error((dir_ / "missing").string()).find("cannot open"), std::string::npos);
}

TEST_F(MappedFileTest, RequireRegularFile) {
  const std::string fifo = (dir_ / "labels.txt").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(require_regular_file(fifo), Error);
  EXPECT_THROW(require_regular_file("/proc/self/status"), Error);
  EXPECT_NO_THROW(require_regular_file(write("c.txt", 3)));
  EXPECT_NO_THROW(require_regular_file((dir_ / "missing").string()));  // the caller reports it
}

}  // namespace
}  // namespace cnnscope
