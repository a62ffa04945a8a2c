// The rename tables of src/models/layout.h: patterns with numbered variables and offsets, a rest
// ("**"), keys matched whole before their module, kKeys / kTaps rules, both directions, dims.
#include <gtest/gtest.h>

#include "common/error.h"
#include "models/layout.h"
#include "models/network.h"

namespace cnnscope::models::detail {
namespace {

// A small table in the shape of timm's EfficientNet onto torchvision's.
const std::vector<Rename>& table() {
  static const std::vector<Rename> renames{
      {"conv_stem", "features.0.0"},
      {"bn1", "features.0.1", Rename::kKeys},
      {"bn1", "features.0.2", Rename::kTaps},
      {"blocks.{a}.{b}.conv_dw", "features.{a+1}.{b}.block.1.0"},
      {"blocks.{a}.{b}", "features.{a+1}.{b}"},
      {"blocks.{a}", "features.{a+1}"},
      {"stages.{a}.gamma", "stages.{a}.layer_scale", Rename::kKeys, 1},
      {"head.**", "classifier.**"},
  };
  return renames;
}

TEST(Layout, KeysTranslateBothWaysWithOffsets) {
  const Names names(table());
  EXPECT_EQ(names.key_to_ours("blocks.2.1.conv_dw.weight"), "features.3.1.block.1.0.weight");
  EXPECT_EQ(names.key_to_file("features.3.1.block.1.0.weight"), "blocks.2.1.conv_dw.weight");
  EXPECT_EQ(names.key_to_ours("bn1.running_mean"), "features.0.1.running_mean");
  EXPECT_EQ(names.key_to_file("features.0.1.running_mean"), "bn1.running_mean");
  EXPECT_EQ(names.key_to_ours("head.fc.bias"), "classifier.fc.bias");
  EXPECT_EQ(names.key_to_file("classifier.fc.bias"), "head.fc.bias");
  EXPECT_EQ(names.key_to_ours("blocks.0.0.weight"), "features.1.0.weight");
}

TEST(Layout, NamesNoRuleFitsAreRefused) {
  const Names names(table());
  EXPECT_FALSE(names.key_to_ours("other.weight"));
  EXPECT_FALSE(names.key_to_ours("blocks.x.0.conv_dw.weight"));   // not a number
  EXPECT_FALSE(names.key_to_ours("blocks.01.0.conv_dw.weight"));  // not how Python names it
  EXPECT_FALSE(names.key_to_file("features.0.0.0.weight"));
  EXPECT_FALSE(names.tap_to_file("features.0"));  // no rule: the file has no such module
  EXPECT_FALSE(names.key_to_ours("head"));        // "**" needs one segment at least
}

TEST(Layout, KeysAndTapsRulesApartForOneName) {
  const Names names(table());
  EXPECT_EQ(names.tap_to_file("features.0.2"), "bn1");
  EXPECT_FALSE(names.tap_to_file("features.0.1"));  // our BN: the file's bn1 gives more
  EXPECT_EQ(names.tap_to_ours("bn1"), "features.0.2");
  EXPECT_EQ(names.tap_to_ours("blocks.4"), "features.5");
  EXPECT_EQ(names.tap_to_file("features.1"), "blocks.0");
}

TEST(Layout, AStateDictTranslatesAndComesBackInTheFilesShapes) {
  const Names names(table());
  StateDict file;
  file.tensors = {{"stages.1.gamma", at::arange(4.0)},  // [4]
                  {"conv_stem.weight", at::ones({2, 3, 1, 1})}};
  std::string unmatched;
  const std::optional<StateDict> ours = names.to_ours(file, unmatched);
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->tensors[0].name, "stages.1.layer_scale");
  StateDict back = *ours;
  back.tensors[0].tensor = at::arange(4.0).reshape({4, 1, 1});  // as our module holds it
  const StateDict again = names.to_file(back);
  EXPECT_EQ(again.tensors[0].name, "stages.1.gamma");
  EXPECT_EQ(again.tensors[0].tensor.sizes().vec(), std::vector<int64_t>{4});
  EXPECT_EQ(again.tensors[1].name, "conv_stem.weight");
  EXPECT_EQ(names.file_dims("stages.1.layer_scale"), 1);

  file.tensors.push_back({"stray.weight", at::ones({1})});
  EXPECT_FALSE(names.to_ours(file, unmatched));
  EXPECT_EQ(unmatched, "stray.weight");
}

TEST(Layout, DimsAddedOrDroppedAtTheEndOnly) {
  EXPECT_EQ(with_dims(at::ones({5, 3}), 4).sizes().vec(), (std::vector<int64_t>{5, 3, 1, 1}));
  EXPECT_EQ(with_dims(at::ones({5, 1, 1}), 1).sizes().vec(), std::vector<int64_t>{5});
  EXPECT_EQ(with_dims(at::ones({5, 2}), 1).sizes().vec(), (std::vector<int64_t>{5, 2}));
}

// A layout's arch named for a file of another network: one line saying what the keys look like.
TEST(Layout, ALayoutArchNamedForOtherKeysSaysWhatTheyLookLike) {
  StateDict sd = init_network({"mobilenet_v2", 5, 0}).state_dict();
  sd.file = "mnv2.pth";
  std::string message;
  try {
    build_network(sd, {"timm/mobilenetv3_large_100"});
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("mnv2.pth: key 'features.0.0.weight' is not in "
                         "timm/mobilenetv3_large_100's names (looks like mobilenet_v2"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

// A layout arch named for a file it fits as detected runs as detected (the seed series' GoogLeNet
// saved without its auxiliary heads, as its predict.py builds it).
TEST(Layout, ANamedArchThatFitsAsDetectedRunsAsDetected) {
  const StateDict full = init_network({"seed/googlenet", 5, 0}).state_dict();
  StateDict sd;
  sd.file = "googlenet.pth";
  for (const NamedTensor& t : full.tensors)
    if (t.name.rfind("aux", 0) != 0) sd.tensors.push_back(t);
  ASSERT_LT(sd.tensors.size(), full.tensors.size());
  const Network net = build_network(sd, {"seed/googlenet"});
  EXPECT_EQ(net.info().arch, "seed/googlenet");
  EXPECT_EQ(net.info().layout, "seed");
  EXPECT_EQ(net.state_dict().tensors.size(), sd.tensors.size());
}

}  // namespace
}  // namespace cnnscope::models::detail
