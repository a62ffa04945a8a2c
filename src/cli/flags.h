// Flag helpers shared by the subcommands, so each flag has one spelling, one meaning and one help
// text everywhere: CKPT (positional), --arch, --image, the preprocessing flags, --classes, --topk,
// --layers, --channels, --cmap, --bins, --format, --tensorboard, -o/--out and --json.
// Every subcommand has the same shape: a `XFlags` struct filled by CLI11, a `run_x(const XFlags&)`
// that calls the library and prints, and one `Register` (cli/command.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "graph/limits.h"
#include "image/preprocess_spec.h"

namespace cnnscope::cli {

inline CLI::Option* add_checkpoint(CLI::App& sub, std::string& path) {
  return sub
      .add_option("CKPT", path,
                  "checkpoint (.pth/.pt, .safetensors, TorchScript .pt, torch.export .pt2, .onnx)")
      ->required();
}

// --max-graph-steps and --max-graph-memory: the budgets of every forward of a TorchScript
// archive (graph/limits.h), set process-wide as the flags are parsed.
inline void add_graph_limits(CLI::App& sub) {
  constexpr int64_t kGiB = int64_t{1} << 30;
  constexpr double kMaxGiB = 1 << 20;
  sub.add_option_function<int64_t>(
         "--max-graph-steps",
         [](int64_t steps) {
           graph::Limits limits = graph::default_limits();
           limits.max_steps = steps;
           graph::set_default_limits(limits);
         },
         "TorchScript: nodes one forward may execute (default: " +
             std::to_string(graph::Limits::kDefaultSteps) + ")")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  sub.add_option_function<double>(
         "--max-graph-memory",
         [](double gib) {
           graph::Limits limits = graph::default_limits();
           limits.max_bytes = static_cast<int64_t>(gib * static_cast<double>(kGiB));
           graph::set_default_limits(limits);
         },
         "TorchScript: GiB of tensors one forward may hold (default: " +
             std::to_string(graph::Limits::kDefaultBytes / kGiB) + ")")
      ->check(CLI::Range(1.0 / 1024, kMaxGiB));
}

// --arch and --transform-input on|off (GoogLeNet / Inception v3: not in the keys; default on, as
// torchvision's pretrained weights).
inline CLI::Option* add_arch(CLI::App& sub, std::string& arch,
                             std::optional<bool>& transform_input) {
  sub.add_option_function<std::string>(
         "--transform-input",
         [&transform_input](const std::string& v) { transform_input = v == "on"; },
         "GoogLeNet/Inception v3 input re-normalization: on | off (default: on, as torchvision's "
         "pretrained weights)")
      ->check(CLI::IsMember({"on", "off"}));
  add_graph_limits(sub);
  return sub.add_option("--arch", arch,
                        "network (default: detected from the keys; the names: cnnscope summary "
                        "--list-archs)");
}

inline CLI::Option* add_key(CLI::App& sub, std::string& key) {
  return sub.add_option("--key", key, "the nested dict holding the state_dict (default: found)");
}

inline CLI::Option* add_images(CLI::App& sub, std::vector<std::string>& images) {
  return sub.add_option("--image", images,
                        "JPEG, PNG, .npy [3,H,W] / [1,3,H,W], or a folder of them; repeatable");
}

inline void add_preprocess_flags(CLI::App& sub, PreprocessSpec& spec) {
  sub.add_option("--preset", spec.preset, "input preset: alexnet | imagenet (default: by model)");
  sub.add_option("--resize", spec.resize, "Resize: N (shorter side) or HxW");
  sub.add_option("--crop", spec.crop, "CenterCrop N")->check(CLI::PositiveNumber);
  sub.add_option("--mean", spec.mean, "Normalize mean a,b,c");
  sub.add_option("--std", spec.std, "Normalize std a,b,c");
}

inline CLI::Option* add_classes(CLI::App& sub, std::string& classes) {
  return sub.add_option("--classes", classes,
                        "labels: {\"0\": \"daisy\", ...} JSON or one per line");
}

inline CLI::Option* add_topk(CLI::App& sub, int64_t& topk) {
  return sub.add_option("--topk", topk, "how many classes to list")->capture_default_str();
}

inline CLI::Option* add_layers(CLI::App& sub, std::string& layers) {
  return sub.add_option("--layers", layers,
                        "L1,L2,... module names, or all (default: per family, see summary)");
}

inline CLI::Option* add_channels(CLI::App& sub, int64_t& channels) {
  return sub.add_option("--channels", channels, "feature-map channels per figure")
      ->capture_default_str();
}

inline CLI::Option* add_cmap(CLI::App& sub, std::string& cmap) {
  return sub.add_option("--cmap", cmap, "gray | viridis | magma | inferno | plasma | turbo")
      ->capture_default_str();
}

inline CLI::Option* add_bins(CLI::App& sub, int& bins) {
  return sub.add_option("--bins", bins, "histogram bins (numpy.histogram's)")
      ->capture_default_str();
}

inline CLI::Option* add_format(CLI::App& sub, std::string& format) {
  return sub.add_option("--format", format, "figure format: png | svg | pdf")
      ->capture_default_str();
}

inline CLI::Option* add_tensorboard(CLI::App& sub, std::string& dir) {
  return sub.add_option("--tensorboard", dir, "also write TensorBoard event files into DIR");
}

// -o/--out: the one spelling of "where the output goes" (a file or a folder, per command).
inline CLI::Option* add_out(CLI::App& sub, std::string& out, const std::string& what) {
  return sub.add_option("-o,--out", out, what)->capture_default_str();
}

inline CLI::Option* add_json(CLI::App& sub, bool& json) {
  return sub.add_flag("--json", json, "one JSON document on stdout, nothing else");
}

// Benchmark hooks (bench/): hidden from --help, documented in docs/DESIGN.md.
inline CLI::Option* add_bench_hook(CLI::Option* option) {
  return option->group("");
}

}  // namespace cnnscope::cli
