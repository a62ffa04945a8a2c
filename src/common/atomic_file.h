// Output files and folders appear whole or not at all. A file's data goes to a temporary next to
// the target, created exclusively (O_EXCL|O_NOFOLLOW, an unpredictable name), and is renamed over
// the target on commit(); an uncommitted AtomicFile removes its temporary on destruction. A folder
// of outputs (AtomicDir) is written into a fresh hidden folder inside the target and moved in on
// commit(). Leaves out: fsync (a power cut may still lose a committed file), and atomicity of a
// folder's commit as a whole (each file is replaced atomically, one after the other).
// Spec: docs/DESIGN.md section 7.4 (safety rules); POSIX rename(2).
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

  // Throws Error "PATH: cannot write: REASON" on failure (a full disk).
  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
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
// Registers a folder whose files are inputs (an image set): AtomicDir refuses it, or a folder
// inside it, as a target.
void register_input_folder(const std::string& dir);
// Lets AtomicFile replace `path` again: for a caller that has read the input whole (resuming a
// training run in place).
void release_input(const std::string& path);

// Creates a directory (and parents) for outputs; throws Error naming it on failure.
void make_output_dir(const std::string& dir);

// A folder of outputs written by one job: everything goes under staging(), a fresh folder
// (exclusive, unpredictable name) inside `target`; commit() moves its entries into `target`,
// replacing files of the same names and keeping others. Without commit() (a failure midway) the
// destructor removes the staging folder, so `target` keeps what it held (a target folder this
// object created is removed again if empty).
class AtomicDir {
 public:
  explicit AtomicDir(std::string target);
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;

  const std::string& staging() const { return staging_; }
  // The path `staged` (under staging()) will have after commit(); other paths are returned as is.
  std::string final_path(const std::string& staged) const;
  void commit();

 private:
  std::string target_;
  std::string staging_;
  bool created_target_ = false;
  bool committed_ = false;
};

}  // namespace cnnscope
