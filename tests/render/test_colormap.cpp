// Colormaps: every table entry and every lookup equals matplotlib's (oracle: colormaps.json from
// tests/oracle/make_render_colormaps.py), exactly, and unknown names are a clear error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "render/colormap.h"
#include "testing.h"

#include <fstream>

namespace cnnscope {
namespace {

nlohmann::json oracle() {
  std::ifstream in(testing::fixture("colormaps.json"));
  EXPECT_TRUE(in.good()) << "missing fixture colormaps.json";
  return nlohmann::json::parse(in);
}

TEST(Colormap, TablesAndLookupsEqualMatplotlib) {
  const nlohmann::json doc = oracle();
  const std::vector<double> t = doc["t"].get<std::vector<double>>();
  // Every table but "jet", OpenCV's COLORMAP_JET for explain's overlays (checked against cv2 by
  // tests/explain/test_explain_oracle.py), comes from matplotlib.
  ASSERT_EQ(doc["maps"].size() + 1, colormap_names().size());
  for (const auto& [name, golden] : doc["maps"].items()) {
    SCOPED_TRACE(name);
    const Colormap& cmap = colormap(name);
    for (int i = 0; i < Colormap::kSize; ++i) {
      const auto& f = golden["float"][static_cast<size_t>(i)];
      const auto& b = golden["bytes"][static_cast<size_t>(i)];
      for (int k = 0; k < 3; ++k) EXPECT_EQ(cmap.entry_float(i)[static_cast<size_t>(k)], f[k]) << i;
      const Rgb8 e = cmap.entry(i);
      EXPECT_EQ(e.r, b[0].get<int>()) << i;
      EXPECT_EQ(e.g, b[1].get<int>()) << i;
      EXPECT_EQ(e.b, b[2].get<int>()) << i;
    }
    for (size_t j = 0; j < t.size(); ++j) {
      const auto& b = golden["t_bytes"][j];
      const Rgb8 c = cmap.map(t[j]);
      EXPECT_EQ(c.r, b[0].get<int>()) << "t=" << t[j];
      EXPECT_EQ(c.g, b[1].get<int>()) << "t=" << t[j];
      EXPECT_EQ(c.b, b[2].get<int>()) << "t=" << t[j];
    }
  }
}

TEST(Colormap, IndexFollowsMatplotlibBinning) {
  EXPECT_EQ(Colormap::index(0.0), 0);
  EXPECT_EQ(Colormap::index(1.0), 255);  // the top edge goes to the last entry
  EXPECT_EQ(Colormap::index(0.5), 128);
  EXPECT_EQ(Colormap::index(-3.0), 0);
  EXPECT_EQ(Colormap::index(7.0), 255);
  EXPECT_EQ(Colormap::index(std::nan("")), 0);
}

TEST(Colormap, UnknownNameListsTheKnownOnes) {
  try {
    colormap("cividis");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'cividis'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("viridis"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace cnnscope
