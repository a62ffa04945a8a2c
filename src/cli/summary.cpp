// `cnnscope summary CKPT [--arch A] [--input-size N] [--json]`: what was detected, then the module
// tree as print(model) shows it with output shapes, parameters and multiply-adds (torchinfo-like;
// mult-adds count convolutions and linears only). JSON shape: DESIGN.md.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "common/error.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

constexpr int64_t kDefaultInputSize = 224;
constexpr int64_t kMaxInputSize = 4096;

struct Args {
  std::string checkpoint;
  std::string arch;
  int64_t input_size = kDefaultInputSize;
  bool json = false;
};

struct Row {
  const models::TapInfo* tap;
  std::vector<int64_t> shape;  // output for the summary's input; empty if not a tensor
  int64_t mult_adds = 0;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "1,234,567".
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Multiply-adds of one leaf for its output `out`: a conv's weight once per output position, a
// linear's weight once per row.
int64_t leaf_mult_adds(const torch::nn::Module& m, const at::Tensor& out) {
  if (const auto* conv = m.as<torch::nn::Conv2d>())
    return conv->weight.numel() * out.size(0) * out.size(2) * out.size(3);
  if (const auto* fc = m.as<torch::nn::Linear>()) return fc->weight.numel() * out.size(0);
  return 0;
}

void run(const Args& a) {
  if (a.input_size < 1 || a.input_size > kMaxInputSize)
    fail("", "--input-size must be 1.." + std::to_string(kMaxInputSize) + ", got " +
                 std::to_string(a.input_size));
  models::Network net = models::build_network(load_state_dict(a.checkpoint), {a.arch});
  const auto& taps = net.taps();
  std::vector<std::string> names;
  for (const models::TapInfo& t : taps) names.push_back(t.name);
  const std::vector<int64_t> input_shape{1, 3, a.input_size, a.input_size};
  models::ForwardResult r = net.run(at::zeros(input_shape), names);  // [1, 3, N, N]

  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  for (const auto& item : net.module().named_modules("", false)) modules[item.key()] = item.value();
  std::vector<Row> rows;
  for (size_t i = 0; i < taps.size(); ++i) {
    Row row{&taps[i], r.taps[i].tensor.sizes().vec(), 0};
    if (taps[i].leaf) row.mult_adds = leaf_mult_adds(*modules.at(taps[i].name), r.taps[i].tensor);
    rows.push_back(row);
  }
  // A container's mult-adds: the sum over the leaves under it.
  int64_t total_mult_adds = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].tap->leaf) continue;
    total_mult_adds += rows[i].mult_adds;
    for (size_t j = 0; j < rows.size(); ++j) {
      const std::string prefix = rows[j].tap->name + ".";
      if (!rows[j].tap->leaf && rows[i].tap->name.rfind(prefix, 0) == 0)
        rows[j].mult_adds += rows[i].mult_adds;
    }
  }

  const models::ArchInfo& info = net.info();
  if (a.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const Row& row : rows)
      layers.push_back({{"name", row.tap->name},
                        {"type", row.tap->type},
                        {"output_shape", row.shape},
                        {"params", row.tap->params},
                        {"mult_adds", row.mult_adds}});
    nlohmann::json doc{{"arch", info.arch},
                       {"family", info.family},
                       {"description", info.description},
                       {"num_classes", info.num_classes},
                       {"params", net.num_parameters()},
                       {"mult_adds", total_mult_adds},
                       {"input_shape", input_shape},
                       {"default_preset", info.default_preset},
                       {"layers", layers}};
    std::printf("%s\n", doc.dump(1).c_str());
    return;
  }

  std::vector<std::string> left;
  size_t width = 0;
  for (const Row& row : rows) {
    const std::string text = std::string(2 * row.tap->depth, ' ') + row.tap->name + ": " +
                             (row.tap->leaf ? row.tap->repr : row.tap->type);
    width = std::max(width, text.size());
    left.push_back(text);
  }
  const std::string root_type = net.module().name();
  std::printf("%s\n%s\n", a.checkpoint.c_str(), info.description.c_str());
  std::printf("%-*s  %-20s %12s %16s\n", static_cast<int>(width),
              ("Layer (input " + shape_text(input_shape) + ")").c_str(), "Output shape", "Params",
              "Mult-adds");
  std::printf("%-*s  %-20s %12s %16s\n", static_cast<int>(width), root_type.c_str(),
              shape_text(r.logits.sizes().vec()).c_str(), grouped(net.num_parameters()).c_str(),
              grouped(total_mult_adds).c_str());
  for (size_t i = 0; i < rows.size(); ++i)
    std::printf("%-*s  %-20s %12s %16s\n", static_cast<int>(width), left[i].c_str(),
                shape_text(rows[i].shape).c_str(), grouped(rows[i].tap->params).c_str(),
                rows[i].mult_adds ? grouped(rows[i].mult_adds).c_str() : "--");
  constexpr double kMega = 1e6;
  constexpr double kGiga = 1e9;
  std::printf("Total params: %s (%.2f M)\nTotal mult-adds: %s (%.3f G)\nDefault preset: %s\n",
              grouped(net.num_parameters()).c_str(), net.num_parameters() / kMega,
              grouped(total_mult_adds).c_str(), total_mult_adds / kGiga,
              info.default_preset.c_str());
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "checkpoint (.pth, .safetensors)")->required();
  sub.add_option("--arch", args->arch, "network (default: detected from the keys)");
  sub.add_option("--input-size", args->input_size, "input height and width (default 224)");
  sub.add_flag("--json", args->json, "one JSON document on stdout");
  return [args] { run(*args); };
}

const Register reg{
    {"summary", "the rebuilt network: layers, output shapes, parameters, mult-adds", setup, 30}};

}  // namespace
}  // namespace cnnscope::cli
