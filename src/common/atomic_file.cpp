// AtomicFile: temp-file-and-rename output, and the "never overwrite an input" guard.
// Follows POSIX rename(2) semantics (atomic replacement within one file system).
#include "common/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.h"

namespace cnnscope {
namespace {

struct FileId {
  dev_t dev;
  ino_t ino;
};

std::mutex& inputs_mutex() {
  static std::mutex m;
  return m;
}
std::vector<FileId>& inputs() {
  static std::vector<FileId> ids;
  return ids;
}

bool is_registered_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  for (const FileId& id : inputs())
    if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
  return false;
}

}  // namespace

void register_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  inputs().push_back({st.st_dev, st.st_ino});
}

void make_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create output directory: " + ec.message());
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (is_registered_input(path_))
    fail(path_, "refusing to overwrite an input file", "choose another output name");
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) fail(path_, std::string("cannot create output file: ") + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  if (size && std::fwrite(data, 1, size, file_) != size)
    fail(path_, std::string("write failed: ") + std::strerror(errno));
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0 || std::ferror(file_))
    fail(path_, std::string("write failed: ") + std::strerror(errno));
  std::FILE* f = std::exchange(file_, nullptr);
  if (std::fclose(f) != 0) fail(path_, std::string("close failed: ") + std::strerror(errno));
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    fail(path_, std::string("cannot rename output into place: ") + std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes);
  out.commit();
}

}  // namespace cnnscope
