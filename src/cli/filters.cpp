// `cnnscope filters CKPT [--layer NAME] [--out FILE] [--scale kernel|layer] [--mode ...]`: a
// convolution's kernels as a picture (the first conv by default, found from 4-D weights in file
// order). Leaves out: 1-D/3-D convolutions. Spec: DESIGN.md command-line contract.
#include <cstdio>
#include <filesystem>

#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "render/filter_mosaic.h"

namespace cnnscope::cli {
namespace {

constexpr int kConvRank = 4;
constexpr const char* kWeightSuffix = ".weight";
constexpr size_t kListedLayers = 12;

struct Args {
  std::string checkpoint;
  std::string layer;
  std::string out = "filters.png";
  std::string scale = "kernel";
  std::string mode = "auto";
  int max_kernels = 0;
  int max_channels = 16;
};

bool is_conv_weight(const NamedTensor& t) {
  return t.tensor.dim() == kConvRank && at::isFloatingType(t.tensor.scalar_type());
}

std::string conv_layers(const StateDict& sd) {
  std::string out;
  size_t n = 0;
  for (const NamedTensor& t : sd.tensors) {
    if (!is_conv_weight(t)) continue;
    if (n++ == kListedLayers) return out + ", ...";
    out += (out.empty() ? "" : ", ") + t.name;
  }
  return out.empty() ? "it holds no 4-D weight" : "conv weights: " + out;
}

// --layer takes "features.0" or "features.0.weight"; empty picks the first conv weight.
const NamedTensor& find_layer(const StateDict& sd, const std::string& layer) {
  for (const NamedTensor& t : sd.tensors) {
    if (layer.empty() ? is_conv_weight(t) : (t.name == layer || t.name == layer + kWeightSuffix))
      return t;
  }
  if (layer.empty())
    fail(sd.file, "no convolution weight (4-D floating tensor) in the checkpoint",
         "filters draws conv kernels; `cnnscope ls` lists what the file holds");
  fail(sd.file, "no tensor '" + layer + "' or '" + layer + kWeightSuffix + "'", conv_layers(sd));
}

FigureFormat format_of(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext.empty()) fail(path, "output has no extension", "name it .png, .svg or .pdf");
  return parse_figure_format(ext.substr(1));
}

void run(const Args& a) {
  const FigureFormat format = format_of(a.out);
  FilterMosaicOptions options;
  options.scale = parse_filter_scale(a.scale);
  options.mode = parse_filter_mode(a.mode);
  if (a.max_kernels < 0 || a.max_channels < 0)
    fail("", "--max-kernels and --max-channels take 0 (all) or more");
  options.max_kernels = a.max_kernels;
  options.max_channels = a.max_channels;
  const StateDict sd = load_state_dict(a.checkpoint);
  const NamedTensor& conv = find_layer(sd, a.layer);
  if (!is_conv_weight(conv))
    fail(sd.file, "'" + conv.name + "' is not a convolution weight (4-D floating tensor)",
         conv_layers(sd));
  options.title = conv.name;
  std::string bytes;
  try {
    bytes = filter_mosaic(conv.tensor, options, format);
  } catch (const Error& e) {
    fail(sd.file, e.what());
  }
  write_file_atomic(a.out, bytes);
  std::string shape;
  for (int64_t d : conv.tensor.sizes()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  std::printf("%s: %s [%s] -> %s\n", sd.file.c_str(), conv.name.c_str(), shape.c_str(),
              a.out.c_str());
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "state_dict file (.pth, .safetensors)")
      ->required();
  sub.add_option("--layer", args->layer, "conv layer or weight key (default: the first conv)");
  sub.add_option("--out,-o", args->out, "output figure (.png, .svg or .pdf)")
      ->capture_default_str();
  sub.add_option("--scale", args->scale, "kernel: each kernel its own range; layer: one range")
      ->capture_default_str();
  sub.add_option("--mode", args->mode,
                 "auto, rgb (C_in = 3), channels (gray tile per input channel) or mean")
      ->capture_default_str();
  sub.add_option("--max-kernels", args->max_kernels, "kernels shown (0: all)")
      ->capture_default_str();
  sub.add_option("--max-channels", args->max_channels, "input channels per kernel, channels mode")
      ->capture_default_str();
  return [args] { run(*args); };
}

const Register reg{
    {"filters", "a convolution's kernels as a picture (first conv by default)", setup, 62}};

}  // namespace
}  // namespace cnnscope::cli
