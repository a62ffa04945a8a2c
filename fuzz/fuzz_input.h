// What the libFuzzer targets share: the loaders read files (they memory-map them), so each input
// is written to one per-process file under /tmp, replaced on every run.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace cnnscope::fuzz {

// Writes the input to /tmp/cnnscope-fuzz-<pid><extension>; "" when the file cannot be written.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& extension) {
  static const std::string path = "/tmp/cnnscope-fuzz-" + std::to_string(::getpid()) + extension;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "";
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace cnnscope::fuzz
