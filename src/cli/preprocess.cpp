// `cnnscope preprocess IMAGE... --npy OUT.npy | --out DIR`: the network input tensor [3,H,W]
// float32 as torchvision + Pillow make it, saved as .npy. Leaves out: batching into one array.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "cli/preprocess_flags.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "export/npy.h"
#include "image/input.h"

namespace cnnscope::cli {
namespace {

constexpr const char* kDefaultPreset = "imagenet";

struct Args {
  std::vector<std::string> images;
  std::string npy;
  std::string out_dir;
  PreprocessFlags flags;
};

std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

void run(const Args& a) {
  if (a.npy.empty() == a.out_dir.empty())
    fail("", "give exactly one of --npy OUT.npy or --out DIR", "--out DIR writes DIR/<stem>.npy");
  if (!a.npy.empty() && a.images.size() != 1)
    fail("", "--npy takes one image, got " + std::to_string(a.images.size()),
         "use --out DIR for several images");
  const PreprocessOptions options = resolve_preprocess(a.flags, kDefaultPreset);
  for (const std::string& image : a.images) register_input(image);
  std::vector<std::string> outs;
  for (const std::string& image : a.images) {
    if (!a.npy.empty()) {
      outs.push_back(a.npy);
      continue;
    }
    namespace fs = std::filesystem;
    outs.push_back((fs::path(a.out_dir) / fs::path(image).stem()).string() + ".npy");
    for (size_t i = 0; i + 1 < outs.size(); ++i)
      if (outs[i] == outs.back())
        fail(image, "two inputs would both write " + outs.back(), "rename one of them");
  }
  if (!a.out_dir.empty()) make_output_dir(a.out_dir);
  for (size_t i = 0; i < a.images.size(); ++i) {
    const std::string& image = a.images[i];
    const std::string& out = outs[i];
    const at::Tensor tensor = load_input(image, options);  // [3, H, W]
    write_npy(out, tensor);
    std::printf("%s -> %s %s float32 (preset %s)\n", image.c_str(), out.c_str(),
                shape_text(tensor).c_str(), options.name.c_str());
  }
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("image", args->images, "JPEG, PNG or .npy input(s)")->required();
  sub.add_option("--npy", args->npy, "output .npy file (one image)");
  sub.add_option("--out", args->out_dir, "output directory: <stem>.npy per image");
  add_preprocess_flags(sub, args->flags);
  return [args] { run(*args); };
}

const Register reg{{"preprocess",
                    "image -> network input tensor [3,H,W] float32 (.npy), as torchvision", setup,
                    40}};

}  // namespace
}  // namespace cnnscope::cli
