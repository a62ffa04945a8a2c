// common/suggest.h: the optimal string alignment distance on folded names (case, '-' and '_'
// ignored), the nearest candidates, and which of them are near enough to offer as "did you mean".
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/suggest.h"

namespace cnnscope {
namespace {

TEST(Suggest, DistanceCountsEditsAndSwapsOfNeighbours) {
  EXPECT_EQ(name_distance("", ""), 0u);
  EXPECT_EQ(name_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(name_distance("features.1", "features.10"), 1u);
  EXPECT_EQ(name_distance("abc", ""), 3u);
  EXPECT_EQ(name_distance("imgae", "image"), 1u);  // one swap, not two substitutions
  EXPECT_EQ(name_distance("ca", "abc"), 3u);       // optimal string alignment, not unrestricted
  EXPECT_EQ(name_distance("featurs", "features"), 1u);
}

TEST(Suggest, DistanceIgnoresCaseDashesAndUnderscores) {
  EXPECT_EQ(name_distance("Top-K", "topk"), 0u);
  EXPECT_EQ(name_distance("resnet-18", "resnet18"), 0u);
  EXPECT_EQ(name_distance("efficientnet-b0", "efficientnet_b0"), 0u);
  EXPECT_EQ(name_distance("ImagNet", "imagenet"), 1u);
}

TEST(Suggest, ClosestNamesNearestFirstTiesInOrder) {
  const std::vector<std::string> names{"layer1", "layer2", "conv1", "layer3", "fc"};
  EXPECT_EQ(closest_names("layer4", names, 3),
            (std::vector<std::string>{"layer1", "layer2", "layer3"}));
  EXPECT_EQ(closest_names("cnv1", names, 1), (std::vector<std::string>{"conv1"}));
  EXPECT_EQ(closest_names("x", names, 10).size(), names.size());
  EXPECT_TRUE(closest_names("x", {}, 3).empty());
}

TEST(Suggest, SuggestionsOnlyWhatIsNearEnough) {
  const std::vector<std::string> commands{"summary", "features", "explain", "predict", "report"};
  EXPECT_EQ(suggestions("featurs", commands), (std::vector<std::string>{"features"}));
  EXPECT_TRUE(suggestions("zzzzzz", commands).empty());
  EXPECT_TRUE(suggestions("features", commands).empty());  // the name itself is no suggestion
  EXPECT_EQ(suggestions("FEATURES", commands), (std::vector<std::string>{"features"}));
  const std::vector<std::string> layers{"layer1", "layer2", "layer3", "layer4", "fc"};
  EXPECT_EQ(suggestions("layer9", layers, 2), (std::vector<std::string>{"layer1", "layer2"}));
  // Only the nearest: resnet34 and resnet50 are as near to "resnet-18" as the limit allows.
  EXPECT_EQ(suggestions("resnet-18", {"resnet34", "resnet18", "resnet50"}),
            (std::vector<std::string>{"resnet18"}));
}

TEST(Suggest, DidYouMeanReadsAsASentence) {
  EXPECT_EQ(did_you_mean("imagnet", {"alexnet", "imagenet", "mnist"}), "did you mean 'imagenet'?");
  EXPECT_EQ(did_you_mean("layer9", {"layer1", "layer2", "layer3", "fc"}),
            "did you mean 'layer1', 'layer2' or 'layer3'?");
  EXPECT_EQ(did_you_mean("layr", {"layer1", "layer"}), "did you mean 'layer'?");
  EXPECT_EQ(did_you_mean("qqq", {"layer1"}), "");
  EXPECT_EQ(suggestion_hint("resnet-18", {"resnet18"}, "see cnnscope summary --list-archs"),
            "did you mean 'resnet18'? see cnnscope summary --list-archs");
  EXPECT_EQ(suggestion_hint("qqq", {"resnet18"}, "see x"), "see x");
  EXPECT_EQ(suggestion_hint("qqq", {"resnet18"}, ""), "");
}

}  // namespace
}  // namespace cnnscope
