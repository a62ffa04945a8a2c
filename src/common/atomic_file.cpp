// AtomicFile and AtomicDir: exclusive temporaries with unpredictable names, renamed into place;
// and the "never overwrite an input" guard. Follows POSIX open(2) O_EXCL|O_NOFOLLOW and rename(2)
// (atomic replacement within one file system).
#include "common/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

constexpr int kCreateTries = 16;  // name collisions with 64 random bits are for attackers only

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
std::vector<FileId>& input_folders() {
  static std::vector<FileId> ids;
  return ids;
}

// Whether `dir` or a folder above it is a registered input folder.
bool inside_input_folder(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return false;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  for (;; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0)
      for (const FileId& id : input_folders())
        if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
    if (p == p.root_path() || p.empty()) return false;
  }
}

bool is_registered_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  for (const FileId& id : inputs())
    if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
  return false;
}

// 64 bits from the system's random source as 16 hex digits: a name nobody can plant ahead.
std::string random_hex() {
  std::random_device rd;
  const uint64_t v = (uint64_t{rd()} << 32) ^ rd();
  return fmt::format("{:016x}", v);
}

// Calls `create(name)` with fresh names `base + random` until it does not fail with EEXIST;
// returns the name, or fails naming `target`.
template <typename Create>
std::string create_exclusive(const std::string& target, const std::string& base,
                             const std::string& what, Create create) {
  for (int i = 0; i < kCreateTries; ++i) {
    std::string name = base + random_hex();
    if (create(name)) return name;
    if (errno != EEXIST) break;
  }
  fail(target, "cannot create " + what + ": " + std::strerror(errno));
}

[[noreturn]] void fail_write(const std::string& path, int error) {
  fail(path, std::string("cannot write: ") + std::strerror(error));
}

// Whether `entry` (from the staging folder) goes into the folder of the same name at `dest`.
bool merges(const fs::path& entry, const fs::path& dest) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(entry, ec)) &&
         fs::is_directory(fs::symlink_status(dest, ec));
}

// What move_entries would do, checked whole before it moves anything: no input replaced, no
// file over a folder or a folder over a file.
void check_entries(const fs::path& from, const fs::path& to) {
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    const fs::path dest = to / e.path().filename();
    if (merges(e.path(), dest)) {
      check_entries(e.path(), dest);
      continue;
    }
    if (is_registered_input(dest.string()))
      fail(dest.string(), "refusing to overwrite an input file", "choose another output folder");
    std::error_code ec;
    const fs::file_status there = fs::symlink_status(dest, ec);
    if (fs::exists(there) && fs::is_directory(there) != e.is_directory(ec))
      fail(dest.string(), "is in the way of an output of the other kind (file or folder)",
           "choose another output folder");
  }
}

// Moves the entries of `from` into `to`: a folder into a folder of the same name entry by entry,
// anything else by rename(2) over what is there (check_entries first).
void move_entries(const fs::path& from, const fs::path& to) {
  std::vector<fs::path> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(from)) entries.push_back(e.path());
  for (const fs::path& entry : entries) {
    const fs::path dest = to / entry.filename();
    if (merges(entry, dest)) {
      move_entries(entry, dest);
      continue;
    }
    if (::rename(entry.c_str(), dest.c_str()) != 0)
      fail(dest.string(), std::string("cannot move output into place: ") + std::strerror(errno));
  }
}

}  // namespace

void register_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  inputs().push_back({st.st_dev, st.st_ino});
}

void register_input_folder(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  input_folders().push_back({st.st_dev, st.st_ino});
}

void release_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(inputs_mutex());
  auto& ids = inputs();
  const auto same = [&](const FileId& id) { return id.dev == st.st_dev && id.ino == st.st_ino; };
  ids.erase(std::remove_if(ids.begin(), ids.end(), same), ids.end());
}

void make_output_dir(const std::string& dir) {
  if (dir.empty()) fail("", "an output folder needs a name, got an empty one");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create output directory: " + ec.message());
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (is_registered_input(path_))
    fail(path_, "refusing to overwrite an input file", "choose another output name");
  int fd = -1;
  temp_ = create_exclusive(path_, path_ + ".tmp-", "output file", [&fd](const std::string& name) {
    fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    return fd >= 0;
  });
  file_ = ::fdopen(fd, "wb");
  if (!file_) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp_.c_str());
    fail(path_, std::string("cannot create output file: ") + std::strerror(error));
  }
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  if (!file_) fail(path_, "cannot write: already committed");
  if (size && std::fwrite(data, 1, size, file_) != size) fail_write(path_, errno);
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0 || std::ferror(file_)) fail_write(path_, errno);
  std::FILE* f = std::exchange(file_, nullptr);
  if (std::fclose(f) != 0) fail_write(path_, errno);
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    fail(path_, std::string("cannot rename output into place: ") + std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes);
  out.commit();
}

AtomicDir::AtomicDir(std::string target) : target_(std::move(target)) {
  if (target_.empty()) fail("", "an output folder needs a name, got an empty one");
  while (target_.size() > 1 && target_.back() == '/') target_.pop_back();
  if (inside_input_folder(target_))
    fail(target_, "refusing to write into a folder of inputs (the outputs would mix with them)",
         "choose an output folder outside it");
  std::error_code ec;
  created_target_ = !fs::exists(fs::symlink_status(target_, ec));
  make_output_dir(target_);
  staging_ =
      create_exclusive(target_, target_ + "/.cnnscope-", "a temporary folder",
                       [](const std::string& name) { return ::mkdir(name.c_str(), 0777) == 0; });
}

AtomicDir::~AtomicDir() {
  std::error_code ec;
  fs::remove_all(staging_, ec);
  if (!committed_ && created_target_) ::rmdir(target_.c_str());
}

std::string AtomicDir::final_path(const std::string& staged) const {
  if (!starts_with(staged, staging_)) return staged;
  return target_ + staged.substr(staging_.size());
}

void AtomicDir::commit() {
  try {
    check_entries(staging_, target_);  // a refusal leaves target_ as it was
    move_entries(staging_, target_);
    fs::remove_all(staging_);  // empty folders left by the moves
  } catch (const fs::filesystem_error& e) {
    fail(target_, std::string("cannot move outputs into place: ") + e.code().message());
  }
  committed_ = true;
}

}  // namespace cnnscope
