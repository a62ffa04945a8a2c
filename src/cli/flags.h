// Flag helpers shared by the subcommands, so each flag has one spelling, one meaning and one help
// text everywhere: CKPT (positional), --arch, --image, the preprocessing flags, --classes, --topk,
// --layers, --channels, --cmap, --bins, --format, --tensorboard, --keys, --batch, -o/--out and
// --json, --threads, --seed, --plots, --npy; names() checks a flag's value against the names the
// library knows, with "did you mean"; parsed_by() runs the library's own parse of a value.
// Every subcommand has the same shape: a `XFlags` struct filled by CLI11, a `run_x(const XFlags&)`
// that calls the library and prints, and one `Register` (cli/command.h).
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/suggest.h"
#include "common/text.h"
#include "graph/limits.h"
#include "image/input.h"
#include "image/preprocess_spec.h"
#include "models/network.h"
#include "render/colormap.h"

namespace cnnscope::cli {

// A check that a value is one of `known` (or starts with `open_prefix`, where that is not empty):
// else "unknown WHAT 'x' (did you mean 'y'? SEE)", CLI11's usage error.
inline CLI::Validator names(const std::string& what, std::vector<std::string> known,
                            const std::string& see, const std::string& open_prefix = "") {
  return CLI::Validator(
      [what, known, see, open_prefix](std::string& value) -> std::string {
        if (std::find(known.begin(), known.end(), value) != known.end()) return "";
        if (!open_prefix.empty() && starts_with(value, open_prefix)) return "";
        const std::string hint = suggestion_hint(value, known, see);
        return "unknown " + what + " '" + value + "'" + (hint.empty() ? "" : " (" + hint + ")");
      },
      "");
}

// A check that runs the library's parse of a value (`parse(value)` throws cnnscope::Error): its
// message becomes CLI11's usage error, so a malformed value is refused before any work.
template <typename Parse>
CLI::Validator parsed_by(Parse parse) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        try {
          parse(value);
          return "";
        } catch (const Error& e) {
          return e.what();
        }
      },
      "");
}

// A check that a number is at least `min`, with a short message (CLI11's PositiveNumber and
// NonNegativeNumber print their range up to the largest double, 300 digits).
inline CLI::Validator at_least(double min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(value, &used);
        } catch (const std::exception&) {
          return "'" + value + "' is not a number";
        }
        if (used != value.size()) return "'" + value + "' is not a number";
        if (!(v >= min)) {
          std::string bound = std::to_string(min);
          bound.erase(bound.find_last_not_of('0') + 1);
          if (bound.back() == '.') bound.pop_back();
          return "must be at least " + bound + ", got " + value;
        }
        return "";
      },
      "");
}

// "a | b | c": a table's names for a help text.
inline std::string alternatives(const std::vector<std::string>& names) {
  return join(names, " | ");
}

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
  return sub
      .add_option("--arch", arch,
                  "network (default: detected from the keys; the names: cnnscope summary "
                  "--list-archs)")
      ->check(names("arch", models::known_archs(), "see cnnscope summary --list-archs"));
}

inline CLI::Option* add_key(CLI::App& sub, std::string& key) {
  return sub.add_option("--key", key, "the nested dict holding the state_dict (default: found)");
}

inline CLI::Option* add_images(CLI::App& sub, std::vector<std::string>& images) {
  return sub.add_option("--image", images,
                        "JPEG, PNG, WebP, GIF, BMP, TIFF, a .npy tensor [3,H,W] / [1,3,H,W] (one "
                        "channel: [1,H,W] / [1,1,H,W]), or a folder of them; repeatable");
}

// The preset names for a help text: each of the table's own, then one "LAYOUT/ARCH" for the
// presets named after a layout arch (timm/ARCH, seed/ARCH: one per arch, too many to list).
inline std::string preset_alternatives() {
  std::vector<std::string> own;
  for (const std::string& name : preset_names())
    if (name.find('/') == std::string::npos) own.push_back(name);
  return alternatives(own) + " | timm/ARCH | seed/ARCH (a layout arch's own)";
}

inline void add_preprocess_flags(CLI::App& sub, PreprocessSpec& spec) {
  sub.add_option("--preset", spec.preset,
                 "input preset: " + preset_alternatives() + " | exported-CxHxW (default: by model)")
      ->check(names("preset", preset_names(), "see --help", "exported-"));
  sub.add_option("--resize", spec.resize, "Resize: N (shorter side) or HxW");
  sub.add_option("--crop", spec.crop, "CenterCrop N")->check(at_least(1));
  sub.add_option("--interpolation", spec.interpolation,
                 "Resize filter, Pillow's: " + alternatives(interpolation_names()) +
                     " (default: the preset's)")
      ->check(names("interpolation", interpolation_names(), "see --help"));
  sub.add_option("--mean", spec.mean, "Normalize mean: one number, or one per channel a,b,c");
  sub.add_option("--std", spec.std, "Normalize std: one number, or one per channel a,b,c");
  sub.add_flag("--grayscale", spec.grayscale,
               "one-channel input (Pillow's convert(\"L\")); default: the network's channels");
}

inline CLI::Option* add_classes(CLI::App& sub, std::string& classes) {
  return sub.add_option("--classes", classes,
                        "labels: {\"0\": \"daisy\", ...} JSON or one per line");
}

inline CLI::Option* add_topk(CLI::App& sub, int64_t& topk) {
  return sub.add_option("--topk", topk, "how many classes to list")
      ->capture_default_str()
      ->check(at_least(1));
}

inline CLI::Option* add_layers(CLI::App& sub, std::string& layers) {
  return sub.add_option("--layers", layers,
                        "L1,L2,... module names, or all (default: per family, see summary)");
}

inline CLI::Option* add_channels(CLI::App& sub, int64_t& channels) {
  return sub.add_option("--channels", channels, "feature-map channels per figure")
      ->capture_default_str()
      ->check(at_least(1));
}

inline CLI::Option* add_cmap(CLI::App& sub, std::string& cmap) {
  return sub.add_option("--cmap", cmap, "colormap: " + alternatives(colormap_names()))
      ->capture_default_str()
      ->check(names("colormap", colormap_names(), "see --help"));
}

inline CLI::Option* add_bins(CLI::App& sub, int& bins) {
  return sub.add_option("--bins", bins, "histogram bins (numpy.histogram's)")
      ->capture_default_str()
      ->check(at_least(1));
}

inline CLI::Option* add_format(CLI::App& sub, std::string& format) {
  return sub.add_option("--format", format, "figure format: png | svg | pdf")
      ->capture_default_str();
}

inline CLI::Option* add_keys(CLI::App& sub, std::vector<std::string>& keys) {
  return sub.add_option("--keys", keys, "only tensors whose key matches one of these globs")
      ->delimiter(',');
}

// --batch: images (or steps, samples) per forward pass, least (1 unless given)..kMaxBatch.
constexpr int64_t kMaxBatch = 256;
inline CLI::Option* add_batch(CLI::App& sub, int64_t& batch, const std::string& what,
                              int64_t least = 1) {
  return sub.add_option("--batch", batch, what)
      ->capture_default_str()
      ->check(CLI::Range(least, kMaxBatch));
}

// --threads: LibTorch's threads for the command's computation, 0..kMaxThreads (0: its default).
constexpr int kMaxThreads = 1024;
template <typename Int>
CLI::Option* add_threads(CLI::App& sub, Int& threads) {
  return sub.add_option("--threads", threads, "LibTorch threads (0: its default)")
      ->capture_default_str()
      ->check(CLI::Range(Int{0}, Int{kMaxThreads}));
}

// --seed: the random seed of what `what` names (initialization, shuffling, ...).
inline CLI::Option* add_seed(CLI::App& sub, uint64_t& seed, const std::string& what) {
  return sub.add_option("--seed", seed, "random seed (" + what + ")")->capture_default_str();
}

// --plots DIR: histogram figures (what they show: `what`) written into a folder.
inline CLI::Option* add_plots(CLI::App& sub, std::string& dir, const std::string& what) {
  return sub.add_option("--plots", dir, "write " + what + " into DIR");
}

// --npy: also write the arrays behind the figures as .npy files (which: `what`).
inline CLI::Option* add_npy(CLI::App& sub, bool& npy, const std::string& what) {
  return sub.add_flag("--npy", npy, "also write " + what);
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
