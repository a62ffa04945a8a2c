// Which images a command reads and where each one's outputs go: `--image` values (files or
// folders) expanded in a fixed order, and per-image output folders that never collide. Leaves out:
// reading the images (image/) and recursion into subfolders.
#pragma once

#include <string>
#include <vector>

namespace cnnscope::app {

// JPEG, PNG or .npy by extension, case-insensitively.
bool is_input_file(const std::string& path);

// Files as given; a folder becomes its JPEG/PNG/.npy files in name order. Throws Error naming a
// folder that cannot be listed or holds no such file.
std::vector<std::string> expand_images(const std::vector<std::string>& given);

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
