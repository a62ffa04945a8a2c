// Output files appear whole or not at all: data goes to a temporary name next to the target and
// is renamed over it on commit(); an uncommitted AtomicFile removes its temporary on destruction.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace cnnscope {

class AtomicFile {
 public:
  // Refuses to write over `path` when it is one of the inputs (same inode), see register_input().
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // For libraries that write through a FILE* (libpng, cairo streams).
  std::FILE* stream() { return file_; }
  // Flushes, closes and renames into place. Throws Error on any I/O failure.
  void commit();

 private:
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Writes a whole file atomically.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Registers a file as an input of this process: AtomicFile refuses to replace it.
void register_input(const std::string& path);

// Creates a directory (and parents) for outputs; throws Error naming it on failure.
void make_output_dir(const std::string& dir);

}  // namespace cnnscope
