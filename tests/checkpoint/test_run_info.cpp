// run.json (checkpoint/run_info.h): written and read back field for field; found beside a
// checkpoint or absent; every malformed or hostile document (bad JSON, wrong types, values out of
// range, a class list of the wrong length, a huge file) is one line naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/run_info.h"
#include "common/error.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

RunInfo sample() {
  RunInfo run;
  run.arch = "lenet_seed";
  run.num_classes = 2;
  run.input_size = 28;
  run.input_channels = 1;
  run.preset = "mnist";
  run.classes = {"cat", "dog"};
  run.epochs = 3;
  run.options = {{"lr", 0.002}, {"optimizer", "adam"}};
  return run;
}

std::string error_of(const std::string& text) {
  try {
    parse_run_info(text, "RUN/run.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RunInfo, RoundTripsEveryField) {
  const RunInfo back = parse_run_info(run_info_json(sample()), "run.json").value();
  EXPECT_EQ(back.arch, "lenet_seed");
  EXPECT_EQ(back.num_classes, 2);
  EXPECT_EQ(back.input_size, 28);
  EXPECT_EQ(back.input_channels, 1);
  EXPECT_EQ(back.preset, "mnist");
  EXPECT_EQ(back.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(back.epochs, 3);
  EXPECT_EQ(back.options, sample().options);
}

TEST(RunInfo, FoundBesideACheckpointOrAbsent) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_info_beside";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string ckpt = (dir / "last.pth").string();
  EXPECT_FALSE(run_info_beside(ckpt).has_value());
  std::ofstream(dir / kRunInfoName) << run_info_json(sample());
  ASSERT_TRUE(run_info_beside(ckpt).has_value());
  EXPECT_EQ(run_info_beside(ckpt)->arch, "lenet_seed");
  std::ofstream(dir / kRunInfoName) << std::string(2 << 20, ' ');
  EXPECT_THROW(run_info_beside(ckpt), Error);
}

TEST(RunInfo, AnotherToolsRunJsonIsLeftAlone) {
  nlohmann::json doc = nlohmann::json::parse(run_info_json(sample()));
  doc["format"] = "wandb";
  EXPECT_FALSE(parse_run_info(doc.dump(), "run.json").has_value());
  doc.erase("format");
  EXPECT_FALSE(parse_run_info(doc.dump(), "run.json").has_value());
  EXPECT_FALSE(parse_run_info(R"({"epochs": "many"})", "run.json").has_value());
}

TEST(RunInfo, HostileDocumentsAreOneLineErrors) {
  nlohmann::json good = nlohmann::json::parse(run_info_json(sample()));
  const auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json doc = good;
    doc[key] = value;
    return doc.dump();
  };
  const auto without = [&](const char* key) {
    nlohmann::json doc = good;
    doc.erase(key);
    return doc.dump();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not valid JSON"},
      {"[]", "not a JSON object"},
      {with("version", 2), "'version'"},
      {without("arch"), "no 'arch'"},
      {with("arch", 7), "'arch'"},
      {with("arch", "../x\n"), "'arch'"},
      {with("num_classes", -1), "'num_classes'"},
      {with("num_classes", "2"), "'num_classes'"},
      {with("input_size", 1e12), "'input_size'"},
      {with("input_size", 2.5), "'input_size'"},
      {with("input_channels", 0), "'input_channels'"},
      {with("preset", nullptr), "'preset'"},
      {with("classes", {"one"}), "'classes'"},
      {with("classes", {"a", 2}), "'classes'"},
      {with("classes", {"a", std::string(300, 'x')}), "'classes'"},
      {with("epochs", nlohmann::json::array()), "'epochs'"},
      {with("options", "lr=1"), "'options'"},
      {std::string(2 << 20, ' '), "1 MiB"},
  };
  for (const auto& [text, message] : cases) {
    const std::string error = error_of(text);
    EXPECT_NE(error.find(message), std::string::npos) << message << " -> " << error;
    EXPECT_EQ(error.rfind("RUN/run.json: ", 0), 0u) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_LE(error.size(), 200u) << error;
  }
}

}  // namespace
}  // namespace cnnscope
