// Hostile key names through the key layouts (models/layout.h, registry.cpp): names Python never
// writes (a trailing dot, empty segments, huge numbers, 100k segments, control characters) are
// refused as Error, in escaped lines naming the file's keys; a file of many keys that all
// translate is refused in bounded time. Leaves out the tables' parity (test_*_layouts.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "models/layout.h"
#include "models/network.h"

namespace cnnscope::models {
namespace {

std::string error_of(const StateDict& sd, const std::string& arch = "") {
  try {
    BuildOptions options;
    options.arch = arch;
    build_network(sd, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// `arch`'s state_dict in its layout's names, as zeros (one zero expanded: no memory per tensor).
StateDict zeros_of(const std::string& arch) {
  StateDict sd = init_network({arch, 7, 0}).state_dict();
  sd.file = "hostile.pth";
  for (NamedTensor& t : sd.tensors)
    t.tensor = at::zeros({}, t.tensor.options()).expand(t.tensor.sizes());
  return sd;
}

// No line of `what` holds a control character or starts with `injected`.
void expect_escaped(const std::string& what, const std::string& injected) {
  EXPECT_FALSE(what.empty());
  size_t start = 0;
  for (size_t end = what.find('\n'); start <= what.size(); end = what.find('\n', start)) {
    const std::string line = what.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_NE(line.rfind(injected, 0), 0u) << what;
    for (char c : line) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << what;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(LayoutHostile, ATrailingDotIsAnotherName) {
  const detail::Names names(std::vector<detail::Rename>{{"**", "**"}});
  EXPECT_NE(names.key_to_ours("fc.weight."), "fc.weight");
  EXPECT_NE(names.key_to_ours("."), "");
  EXPECT_EQ(names.key_to_file(*names.key_to_ours("fc.weight.")), "fc.weight.");
  // torchvision's keys with "fc.weight." for "fc.weight" (timm's layout passes names through):
  // PyTorch's load_state_dict refuses it.
  StateDict sd = zeros_of("resnet18");
  for (NamedTensor& t : sd.tensors)
    if (t.name == "fc.weight") t.name = "fc.weight.";
  EXPECT_NE(error_of(sd), "");
}

TEST(LayoutHostile, OddNamesAreRefusedAsErrors) {
  const std::string many = "blocks.0" + std::string(200000, '.') + "weight";
  std::string deep = "blocks";
  for (int i = 0; i < 100000; ++i) deep += ".0";
  const std::vector<std::pair<std::string, StateDict>> files{
      {"timm/efficientnet_b0", zeros_of("timm/efficientnet_b0")},
      {"timm/resnet18", zeros_of("timm/resnet18")}};
  for (const std::string& name :
       {std::string(""), std::string("."), std::string(".."), std::string("blocks..0.weight"),
        std::string("blocks.99999999999999999999.0.conv_dw.weight"),
        std::string("blocks.999999999.0.conv_dw.weight"), std::string("blocks.0.0.conv_dw."), many,
        deep + ".weight"}) {
    SCOPED_TRACE(name.substr(0, 40));
    for (const auto& [arch, file] : files) {
      StateDict sd = file;
      sd.tensors.push_back({name, at::zeros({1})});
      EXPECT_NE(error_of(sd), "") << arch;
      EXPECT_NE(error_of(sd, arch), "") << arch;
    }
  }
}

TEST(LayoutHostile, KeysFromTheFileAreEscapedInEveryMessage) {
  // An unexpected key (through a "**" rule, and in our own names), and a prefix that every key
  // shares.
  StateDict sd = zeros_of("timm/efficientnet_b0");
  sd.tensors.push_back({"blocks.0.0.x\nINJECTED\x1b[2J", at::zeros({1})});
  expect_escaped(error_of(sd, "timm/efficientnet_b0"), "INJECTED");
  StateDict own = zeros_of("resnet18");
  own.tensors.push_back({"fc.x\nINJECTED\x1b[2J", at::zeros({1})});
  expect_escaped(error_of(own), "INJECTED");
  StateDict wrapped = zeros_of("timm/efficientnet_b0");
  for (NamedTensor& t : wrapped.tensors) t.name = "w\nINJECTED." + t.name;
  expect_escaped(error_of(wrapped), "INJECTED");
}

TEST(LayoutHostile, ALongKeyIsShortenedInMessages) {
  std::string deep = "fc";
  for (int i = 0; i < 100000; ++i) deep += ".0";
  StateDict unexpected = zeros_of("timm/resnet18");  // does not load: 1 unexpected key (...)
  unexpected.tensors.push_back({deep, at::zeros({1})});
  EXPECT_LT(error_of(unexpected).size(), 1000u) << error_of(unexpected).substr(0, 300);
  StateDict unknown;  // matches no known network: 1 key: ...
  unknown.file = "long.pth";
  unknown.tensors.push_back({deep, at::zeros({1})});
  EXPECT_LT(error_of(unknown).size(), 1000u) << error_of(unknown).substr(0, 300);
  StateDict named = zeros_of("timm/efficientnet_b0");  // key '...' is not in ...'s names
  named.tensors.push_back({deep, at::zeros({1})});
  EXPECT_LT(error_of(named, "timm/efficientnet_b0").size(), 1000u);
}

TEST(LayoutHostile, ALoadErrorNamesTheFilesKeys) {
  StateDict sd = zeros_of("timm/efficientnet_b0");
  sd.tensors.erase(sd.tensors.begin() + 10);  // a key of blocks.0
  const std::string missing = zeros_of("timm/efficientnet_b0").tensors[10].name;
  const std::string what = error_of(sd, "timm/efficientnet_b0");
  EXPECT_NE(what.find(missing), std::string::npos) << what;
  EXPECT_EQ(what.find("features."), std::string::npos) << what;  // not our names
}

TEST(LayoutHostile, ManyKeysThatAllTranslateAreRefusedQuickly) {
  // 200k keys that RegNet's timm and seed tables (~950 rules each) both translate.
  StateDict sd;
  sd.file = "many.pth";
  const at::Tensor zero = at::zeros({1});  // [1]
  for (int i = 0; i < 200000; ++i)
    sd.tensors.push_back({"s4.b1.conv1.bn.k" + std::to_string(i), zero});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(error_of(sd), "");
  EXPECT_NE(error_of(sd, "seed/regnety_400mf"), "");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
}

}  // namespace
}  // namespace cnnscope::models
