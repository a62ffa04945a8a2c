// Key layouts: another library's names for the networks of a family (timm's, the seed series'
// model.py files, an official release), as one table of renames mapped onto the family's own
// module tree, so that no network is written twice. A rename table translates both ways: a file's
// keys to the family's names before loading (and back for state_dict()), and the family's module
// names to the file's for taps (a timm user taps `blocks.3`, not `features.4`). Leaves out what
// differs in computation (a family's variant, built by its own file) and detection (registry.cpp).
// Not a public header: other stages use models/network.h.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"

namespace cnnscope::models::detail {

// One rule of a layout: a name in the file's layout and the family's own, as patterns of dotted
// segments. A segment is a literal ("conv_dw"), "{a}" (a number, bound to the variable a, one
// lowercase letter), "{a+2}" / "{a-1}" (a number that far from a's: `blocks.{a}` <->
// `features.{a+1}` maps blocks.0 to features.1 and back), or, last, "**" (the rest of the name, one
// or more segments, unchanged). A key (a parameter or buffer) is matched whole first, then by its
// module's name with the last segment ("weight") kept.
struct Rename {
  enum Use { kBoth, kKeys, kTaps };
  std::string file;  // "blocks.{a}.{b}.conv_dw"
  std::string ours;  // "features.{a+1}.{b}.block.1.0"
  // kKeys: parameters and buffers only (timm's BatchNormAct2d `bn1` holds the BN's weights ...);
  // kTaps: module outputs only (... and gives the output after its activation).
  Use use = kBoth;
  // A key whose tensor has this many dims in the file, size-1 dims added or dropped at the end
  // (timm's MobileNetV3 `conv_head` is a 1x1 conv where torchvision has a Linear; ConvNeXt's
  // `gamma` [C] is torchvision's `layer_scale` [C, 1, 1]); 0: the same shape as ours.
  int file_dims = 0;
};

// One arch of a layout.
struct LayoutArch {
  std::string arch;    // what the arch setting takes and summary shows: "timm/efficientnet_b0"
  std::string ours;    // the family's arch or variant (Family::variants) it builds
  std::string preset;  // its input preset (image/input.h's preset()); "": the family's for `ours`
  // The arch the family's detect gives for these keys when that is not `ours` (timm's
  // tf_efficientnet_b0 has efficientnet_b0's keys and differs in padding); "": `ours`.
  std::string like{};
};

// A family's networks under another library's names.
struct Layout {
  std::string name;                 // "timm" | "seed" (the seed series' pytorch_classification)
  std::vector<LayoutArch> archs{};  // every arch of the family known in this layout
  std::vector<Rename> renames{};    // first match wins; empty: the family's own names
  // Its own initialization of a fresh network (the seed series' model.py init), run after
  // torch::manual_seed; null: the family's.
  std::function<void(torch::nn::Module& root)> init{};
};

// A compiled rename table (one per network, built when a layout's network is made).
class Names {
 public:
  explicit Names(const std::vector<Rename>& renames);

  // A key of the file -> ours (nullopt: no rule fits it), and back.
  std::optional<std::string> key_to_ours(const std::string& file_key) const;
  std::optional<std::string> key_to_file(const std::string& our_key) const;
  // A module (tap) name of ours -> the file's (nullopt: the file's network has no such module),
  // and back.
  std::optional<std::string> tap_to_file(const std::string& our_name) const;
  std::optional<std::string> tap_to_ours(const std::string& file_name) const;
  // The file dims of `our_key` in the file (Rename::file_dims), 0 when the same.
  int file_dims(const std::string& our_key) const;

  // `sd` with every key in our names (shapes as in the file); nullopt when a key fits no rule
  // (then `unmatched` is that key).
  std::optional<StateDict> to_ours(const StateDict& sd, std::string& unmatched) const;
  // `sd` (ours, e.g. state_dict()) in the file's names and shapes; a key no rule fits is an
  // internal error (the table is incomplete).
  StateDict to_file(const StateDict& sd) const;

 private:
  struct Pattern;
  struct Rule;
  std::vector<std::shared_ptr<const Rule>> rules_;
};

// `layout`'s rename table compiled, once per layout (layouts live as long as the program);
// null when the layout has the family's own names.
const Names* names_of(const Layout& layout);

// `t` reshaped to `dims` dims by adding or dropping size-1 dims at the end; `t` itself when it
// has them already or cannot (a dropped dim that is not 1).
at::Tensor with_dims(const at::Tensor& t, int64_t dims);

}  // namespace cnnscope::models::detail
