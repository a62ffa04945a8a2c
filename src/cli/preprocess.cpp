// `cnnscope preprocess IMAGE... -o OUT.npy|DIR`: the network input tensor [3,H,W] float32 as
// torchvision + Pillow make it, saved as .npy (one image to OUT.npy, or DIR/<stem>.npy each).
// Leaves out: batching into one array. Spec: the `preprocess` section of docs/DESIGN.md.
#include <cstdio>

#include "app/image_list.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/atomic_file.h"
#include "common/npy.h"
#include "common/text.h"
#include "image/input.h"

namespace cnnscope::cli {
namespace {

constexpr const char* kDefaultPreset = "imagenet";

struct PreprocessFlags {
  std::vector<std::string> images;
  std::string out;
  PreprocessSpec spec;
};

void run_preprocess(const PreprocessFlags& f) {
  const PreprocessOptions options = resolve_preprocess(f.spec, kDefaultPreset);
  for (const std::string& image : f.images) register_input(image);
  const app::NpyPlan plan = app::plan_npy_outputs(f.images, f.out);
  if (!plan.dir.empty()) make_output_dir(plan.dir);
  const std::vector<std::string>& outs = plan.files;
  for (size_t i = 0; i < f.images.size(); ++i) {
    const at::Tensor tensor = load_input(f.images[i], options);  // [3, H, W]
    write_npy(outs[i], tensor);
    print("%s -> %s %s float32 (preset %s)\n", f.images[i].c_str(), outs[i].c_str(),
          shape_text(tensor.sizes()).c_str(), options.name.c_str());
  }
}

const Register reg{
    {"preprocess", "image -> network input tensor [C,H,W] float32 (.npy), as torchvision",
     [](CLI::App& sub) {
       auto f = std::make_shared<PreprocessFlags>();
       sub.add_option("IMAGE", f->images, "JPEG, PNG or .npy input(s)")->required();
       add_out(sub, f->out, "OUT.npy for one image, else a folder of <stem>.npy")->required();
       add_preprocess_flags(sub, f->spec);
       return [f] { run_preprocess(*f); };
     },
     40}};

}  // namespace
}  // namespace cnnscope::cli
