// MappedFile and require_regular_file (see mapped_file.h): open(2) with O_NONBLOCK (a FIFO never
// blocks the open), fstat/fstatfs on the descriptor, then pread(2) of st_size bytes into aligned
// private memory; fewer bytes than fstat promised is an error.
#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace cnnscope {
namespace {

constexpr size_t kAlign = 64;
constexpr long kProcMagic = 0x9fa0;       // PROC_SUPER_MAGIC, linux/magic.h
constexpr long kSysfsMagic = 0x62656572;  // SYSFS_MAGIC

// What a non-regular file is, for the one-line refusal; "" for a regular file.
std::string odd_kind(const struct stat& st, const struct statfs& fs) {
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISDIR(st.st_mode)) return "a folder";
  if (!S_ISREG(st.st_mode)) return "not a plain file";
  if (static_cast<long>(fs.f_type) == kProcMagic) return "a /proc file";
  if (static_cast<long>(fs.f_type) == kSysfsMagic) return "a /sys file";
  return "";
}

[[noreturn]] void refuse(const std::string& path, const std::string& kind) {
  fail(path, "not a regular file", kind + "; give a file");
}

[[noreturn]] void cannot_open(const std::string& path) {
  fail(path, std::string("cannot open: ") + std::strerror(errno));
}

}  // namespace

void require_regular_file(const std::string& path) {
  struct stat st {};
  struct statfs fs {};
  if (::stat(path.c_str(), &st) != 0 || ::statfs(path.c_str(), &fs) != 0) return;
  const std::string kind = odd_kind(st, fs);
  if (!kind.empty()) refuse(path, kind);
}

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    require_regular_file(path);  // a socket cannot be opened: say what it is
    errno = error;
    cannot_open(path);
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  try {
    struct stat st {};
    struct statfs fs {};
    if (::fstat(fd, &st) != 0 || ::fstatfs(fd, &fs) != 0) cannot_open(path);
    const std::string kind = odd_kind(st, fs);
    if (!kind.empty()) refuse(path, kind);
    const size_t size = static_cast<size_t>(st.st_size);
    if (size > 0) {
      file->data_ =
          static_cast<uint8_t*>(std::aligned_alloc(kAlign, (size + kAlign - 1) / kAlign * kAlign));
      if (!file->data_) fail(path, "file too large to read into memory");
      file->size_ = size;
    }
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::pread(fd, file->data_ + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
      if (n == 0)
        fail(path,
             "file shrank from " + std::to_string(size) + " to " + std::to_string(done) +
                 " bytes while being read",
             "another program is writing it; try again when it is done");
      done += static_cast<size_t>(n);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  std::free(data_);
}

}  // namespace cnnscope
