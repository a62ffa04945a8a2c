// The scan plan (see scan_plan.h): listing a folder or a text list of images, parsing --shard, and
// hashing the list. Spec: the `scan` section of docs/DESIGN.md.
#include "app/scan_plan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/image_list.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/mapped_file.h"

namespace cnnscope::app {

namespace fs = std::filesystem;

std::vector<ScanImage> list_scan_images(const std::string& source) {
  std::vector<ScanImage> out;
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    register_input_folder(source);  // no output folder inside the image set
    const fs::path root(source);
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file() || !is_input_file(it->path().string())) continue;
      const fs::path rel = it->path().lexically_relative(root);
      const std::string label =
          std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : "";
      out.push_back({it->path().string(), label});
    }
    if (ec) fail(source, "cannot list the folder: " + ec.message());
  } else {
    require_regular_file(source);
    register_input(source);  // an output named like it must not replace it
    std::ifstream in(source);
    if (!in) fail(source, "cannot read the image list", "give a folder or a text file of paths");
    const fs::path base = fs::path(source).parent_path();
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
        line.pop_back();
      size_t start = 0;
      while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
      line = line.substr(start);
      if (line.empty() || line[0] == '#') continue;
      const fs::path p(line);
      out.push_back({(p.is_absolute() ? p : base / p).lexically_normal().string(), ""});
    }
  }
  if (out.empty())
    fail(source, "holds no image", "JPEG, PNG, BMP, GIF, WebP, TIFF or .npy files are read");
  std::sort(out.begin(), out.end(),
            [](const ScanImage& a, const ScanImage& b) { return a.path < b.path; });
  return out;
}

ScanShard parse_shard(const std::string& text) {
  ScanShard s;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> s.index >> slash >> s.count) || slash != '/' || in.peek() != EOF || s.count < 1 ||
      s.index < 1 || s.index > s.count)
    fail("", "the shard must be I/N with 1 <= I <= N, got '" + text + "'",
         "e.g. 2/8 for the second of 8 shards");
  return s;
}

std::string scan_list_hash(const std::vector<ScanImage>& list, const std::string& source) {
  // paths relative to the folder or the list's folder: the same plan hashes alike anywhere
  const fs::path root =
      fs::is_directory(source) ? fs::path(source) : fs::path(source).parent_path();
  uint64_t hash = kFnv1a64Offset;
  for (const ScanImage& image : list) {
    const std::string rel =
        root.empty() ? "" : fs::path(image.path).lexically_relative(root).string();
    hash = fnv1a64(rel.empty() ? image.path : rel, hash);
    hash = fnv1a64("\n", hash);
  }
  return hex64(hash);
}

}  // namespace cnnscope::app
