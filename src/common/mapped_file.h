// Input files: a whole regular file read into private memory (MappedFile, shared by the tensors
// that alias it), and the refusal of anything that is not a regular file (FIFOs, devices, sockets,
// folders, /proc and /sys files) before a byte is read, so that no input can block or change
// under the reader. Empty files give a null view; a missing, unreadable or refused file, or one
// that shrinks while it is read, throws Error naming it. Leaves out: mmap (a file truncated by
// another program while mapped kills the reader with SIGBUS). Spec: POSIX open/fstat/pread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cnnscope {

class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  uint8_t* data_ = nullptr;  // 64-byte aligned, so tensors over it are zero-copy
  size_t size_ = 0;
};

// Throws Error "PATH: not a regular file (a FIFO ...)" when `path` names anything but a regular
// file (links followed) outside /proc and /sys; for readers that open the file themselves
// afterwards. A path that cannot be examined (missing, no permission) passes: the caller's open
// reports it.
void require_regular_file(const std::string& path);

}  // namespace cnnscope
