// HTML report builder: every section present, figures embedded byte for byte as data URIs, nothing
// fetched from outside, user text escaped, histograms drawn from the counts, errors shown in place.
#include <gtest/gtest.h>

#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "export/html_report.h"

namespace cnnscope {
namespace {

std::string decode_base64(std::string text) {
  using namespace boost::archive::iterators;
  using Decoder = transform_width<binary_from_base64<std::string::const_iterator>, 8, 6>;
  const size_t pad = text.size() - text.find_last_not_of('=') - 1;
  std::replace(text.end() - pad, text.end(), '=', 'A');
  std::string out(Decoder(text.cbegin()), Decoder(text.cend()));
  out.resize(out.size() - pad);
  return out;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

ReportContent sample() {
  ReportContent c;
  c.checkpoint = "models/alex<net>.pth";
  c.format = "zip";
  c.arch = "alexnet";
  c.params = 14591685;
  c.num_classes = 5;
  c.input_shape = "[1, 3, 224, 224]";
  c.layers = {{"features.0", "Conv2d", "[1, 48, 55, 55]", 17472}};
  ReportWeight w;
  w.name = "features.0.weight";
  w.dtype = "float32";
  w.shape = "[48, 3, 11, 11]";
  w.numel = 17424;
  w.mean = -0.001;
  w.std = 0.05;
  w.min = -0.2;
  w.max = 0.25;
  w.edges = {-0.2, -0.05, 0.1, 0.25};
  w.counts = {10, 0, 17414};
  c.weights.push_back(w);
  ReportWeight evil = w;
  evil.name = "<script>alert(1)</script>";
  evil.counts = {1, 2, 3};
  c.weights.push_back(evil);
  c.filters.push_back(
      {"features.0 filters", "image/png", std::string("\x89PNG\r\n\x1a\n\0\xff", 10)});
  ReportImage ok;
  ok.source = "roses.jpg";
  ok.preprocessing = "alexnet: Resize((224, 224))";
  ok.input = {"input", "image/png", "input-bytes"};
  ok.predictions = {{2, "roses", 0.75}, {0, "daisy", 0.125}};
  ok.feature_maps = {{"features.1", "image/png", "fm1"}, {"features.4", "image/svg+xml", "<svg/>"}};
  ReportImage bad;
  bad.source = "broken.jpg";
  bad.error = "broken.jpg: not a JPEG or PNG file";
  c.images = {ok, bad};
  c.notes = {"skipped features.0.num_batches_tracked"};
  c.generator = "cnnscope test";
  return c;
}

TEST(HtmlReport, Base64Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  const std::string binary("\0\xff\x10\x80\x7f", 5);
  EXPECT_EQ(decode_base64(base64_encode(binary)), binary);
}

TEST(HtmlReport, EscapesText) {
  EXPECT_EQ(html_escape(R"(<a href="x">&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

TEST(HtmlReport, EverySectionPresent) {
  const std::string html = render_html_report(sample());
  for (const char* id : {"overview", "architecture", "weights", "filters", "images", "notes",
                         "weights-table", "weights-filter", "layers-table"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("14591685"), std::string::npos);
  EXPECT_NE(html.find(">roses<"), std::string::npos);
}

TEST(HtmlReport, FiguresEmbeddedByteForByte) {
  const ReportContent c = sample();
  const std::string html = render_html_report(c);
  std::regex uri(R"(src="data:([a-z+/]+);base64,([A-Za-z0-9+/=]*)\")");
  std::vector<std::pair<std::string, std::string>> found;
  for (std::sregex_iterator it(html.begin(), html.end(), uri), end; it != end; ++it)
    found.emplace_back((*it)[1], decode_base64((*it)[2]));
  ASSERT_EQ(found.size(), 4u);  // filters, input, two feature maps
  EXPECT_EQ(found[0], std::make_pair(std::string("image/png"), c.filters[0].bytes));
  EXPECT_EQ(found[1].second, "input-bytes");
  EXPECT_EQ(found[2].second, "fm1");
  EXPECT_EQ(found[3], std::make_pair(std::string("image/svg+xml"), std::string("<svg/>")));
}

TEST(HtmlReport, SelfContained) {
  const std::string html = render_html_report(sample());
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);  // the CSP forbids fetches
  EXPECT_EQ(count(html, "<script>"), 1u);  // only ours: the evil tensor name is escaped
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("models/alex&lt;net&gt;.pth"), std::string::npos);
}

TEST(HtmlReport, HistogramBarsFollowCounts) {
  const std::string html = render_html_report(sample());
  const size_t table = html.find("id=\"weights-table\"");
  ASSERT_NE(table, std::string::npos);
  std::regex path(R"(<path d="([^"]*)\"/>)");
  std::vector<std::string> paths;
  for (std::sregex_iterator it(html.begin() + table, html.end(), path), end; it != end; ++it)
    paths.push_back((*it)[1]);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(count(paths[0], "M"), 2u);  // counts {10, 0, 17414}: the empty bin has no bar
  EXPECT_EQ(count(paths[1], "M"), 3u);
  EXPECT_NE(paths[0].find("M106.67 32V0.00h53.33V32z"), std::string::npos) << paths[0];
  EXPECT_NE(html.find("3 bins from -0.2 to 0.25, tallest 17414"), std::string::npos);
}

TEST(HtmlReport, ImageErrorAndMissingFeaturesExplained) {
  ReportContent c = sample();
  c.arch.clear();
  c.layers.clear();
  c.no_features_reason = "no feature maps: the architecture is not in cnnscope's zoo";
  c.images[0].feature_maps.clear();
  const std::string html = render_html_report(c);
  EXPECT_NE(html.find(R"(<p class="error">broken.jpg: not a JPEG or PNG file</p>)"),
            std::string::npos);
  EXPECT_GE(count(html, "not in cnnscope&#39;s zoo"), 2u);  // overview and the image section
  EXPECT_NE(html.find("the architecture was not recognised"), std::string::npos);
}

TEST(HtmlReport, WritesAtomically) {
  const std::string path = ::testing::TempDir() + "/report_test.html";
  write_html_report(path, sample());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), render_html_report(sample()));
}

}  // namespace
}  // namespace cnnscope
