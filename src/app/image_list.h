// Which images a command reads, how they go through the network and where each one's outputs
// go: `--image` values (files or folders) expanded in a fixed order, batches of consecutive inputs
// of one size, and per-image output folders that never collide. Leaves out: reading the images
// (image/) and recursion into subfolders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace cnnscope::app {

// JPEG, PNG or .npy by extension, case-insensitively.
bool is_input_file(const std::string& path);

// Files as given; a folder becomes its image files (every format image/decode.h reads) and .npy
// files in name order. Throws Error naming a folder that cannot be listed or holds no such file.
std::vector<std::string> expand_images(const std::vector<std::string>& given);

// Consecutive inputs of one shape go through the network together: the [begin, end) ranges of
// equal neighbours in `shapes` (each input's [C, H, W]), in order.
std::vector<std::pair<size_t, size_t>> same_shape_batches(
    const std::vector<std::vector<int64_t>>& shapes);

// Inputs 0..count-1 loaded in chunks of at most `max_batch` (`load(i)` returns the input, `shape`
// its [C, H, W]), each chunk handed on as same_shape_batches: `use(first, inputs)` with the index
// of the batch's first input and its inputs, all of one shape.
template <class Load, class Shape, class Use>
void for_each_batch(size_t count, int64_t max_batch, Load load, Shape shape, Use use) {
  const size_t chunk = max_batch > 0 ? static_cast<size_t>(max_batch) : 1;
  for (size_t first = 0; first < count; first += chunk) {
    std::vector<decltype(load(first))> loaded;
    std::vector<std::vector<int64_t>> shapes;
    for (size_t i = first; i < count && i < first + chunk; ++i) {
      loaded.push_back(load(i));
      shapes.push_back(shape(loaded.back()));
    }
    for (const auto& [begin, end] : same_shape_batches(shapes)) {
      const auto from = loaded.begin() + static_cast<std::ptrdiff_t>(begin);
      const auto to = loaded.begin() + static_cast<std::ptrdiff_t>(end);
      use(first + begin,
          decltype(loaded)(std::make_move_iterator(from), std::make_move_iterator(to)));
    }
  }
}

// One input image and where its outputs go.
struct ImageJob {
  std::string path;
  std::string name;     // file name, for titles
  std::string out_dir;  // <out> for a single image, <out>/<stem> for several
};

// One image writes into `out`; several each into `out/<stem>`, with -2, -3, ... appended when two
// images share a stem.
std::vector<ImageJob> plan_image_jobs(const std::vector<std::string>& files,
                                      const std::string& out);

// Where `preprocess -o OUT` writes: one image and OUT ending in .npy writes OUT (dir empty);
// otherwise OUT is a folder (dir) of <stem>.npy. Throws Error when two images would write the same
// file.
struct NpyPlan {
  std::string dir;                 // to create first; empty for a single file
  std::vector<std::string> files;  // one per image, in order
};
NpyPlan plan_npy_outputs(const std::vector<std::string>& images, const std::string& out);

}  // namespace cnnscope::app
