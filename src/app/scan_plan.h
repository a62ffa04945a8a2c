// Which images a scan covers: the sorted list of a folder (recursively, the first subfolder as the
// class) or of a text list, the `--shard I/N` split of it, and the list's hash that shards of one
// plan share. Leaves out: decoding the images (image/input.h) and running them (app/scan.h).
// Spec: the `scan` section of docs/DESIGN.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cnnscope::app {

// One image in the sorted list: its path and class (first subfolder under the root; "" none).
struct ScanImage {
  std::string path;
  std::string label;
};

// The sorted image list of a folder (recursively, JPEG/PNG/BMP/GIF/WebP/TIFF/.npy; the folder is
// registered as an input folder, common/atomic_file.h) or of a text file (registered as an input;
// one path a line, relative to the file's folder; blank lines and # comments skipped). Throws Error
// naming the folder or list when it cannot be read or holds no image.
std::vector<ScanImage> list_scan_images(const std::string& source);

struct ScanShard {
  int64_t index = 1;  // 1-based
  int64_t count = 1;
};
// "I/N" with 1 <= I <= N; throws Error otherwise.
ScanShard parse_shard(const std::string& text);

// FNV-1a 64 (common/hash.h) of the list's paths, each relative to `source` (the folder, or the
// text list's folder) and ended by '\n', as 16 hex digits: the same plan hashes alike anywhere.
std::string scan_list_hash(const std::vector<ScanImage>& list, const std::string& source);

}  // namespace cnnscope::app
