// `cnnscope predict CKPT --image IMG [--arch A] [--preset P] [--classes FILE] [--topk K] [--json]`:
// softmax probabilities and the top k with labels (the seed's class_indices.json or one label per
// line). Batch of one image only. JSON shape: DESIGN.md.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/labels.h"
#include "cli/preprocess_flags.h"
#include "common/error.h"
#include "image/input.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

constexpr int64_t kDefaultTopK = 5;
constexpr int kMaxRepeat = 10000;

struct Args {
  std::string checkpoint;
  std::string image;
  std::string arch;
  PreprocessFlags preprocess;
  std::string classes;
  int64_t topk = kDefaultTopK;
  int repeat = 0;  // diagnostic: time this many extra forward passes (stderr)
  bool json = false;
};

void run(const Args& a) {
  if (a.topk < 1) fail("", "--topk must be at least 1, got " + std::to_string(a.topk));
  if (a.repeat < 0 || a.repeat > kMaxRepeat)
    fail("", "--repeat must be 0.." + std::to_string(kMaxRepeat));
  models::Network net = models::build_network(load_state_dict(a.checkpoint), {a.arch});
  const models::ArchInfo& info = net.info();
  std::vector<std::string> labels;
  if (!a.classes.empty()) labels = read_labels(a.classes, info.num_classes);
  const PreprocessOptions options = resolve_preprocess(a.preprocess, info.default_preset);
  const bool npy = a.image.size() > 4 && a.image.substr(a.image.size() - 4) == ".npy";
  const std::string preset_name = npy ? "none (.npy used as is)" : options.name;
  const at::Tensor input = load_input(a.image, options).unsqueeze(0);  // [1, 3, H, W]
  models::ForwardResult r = net.run(input);
  if (a.repeat > 0) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < a.repeat; ++i) net.run(input);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::fprintf(stderr, "forward: %.3f ms per image (%d runs, %d threads)\n",
                 1e3 * took.count() / a.repeat, a.repeat, at::get_num_threads());
  }
  const at::Tensor logits = r.logits[0];               // [classes]
  const at::Tensor probs = torch::softmax(logits, 0);  // [classes]
  const int64_t k = std::min<int64_t>(a.topk, info.num_classes);
  const auto [top_p, top_i] = probs.topk(k);  // [k], [k]
  auto label_of = [&](int64_t i) { return labels.empty() ? std::to_string(i) : labels[i]; };

  if (a.json) {
    nlohmann::json top = nlohmann::json::array();
    for (int64_t j = 0; j < k; ++j) {
      const int64_t i = top_i[j].item<int64_t>();
      top.push_back(
          {{"index", i}, {"label", label_of(i)}, {"probability", top_p[j].item<double>()}});
    }
    const at::Tensor l = logits.to(at::kDouble).contiguous();
    const at::Tensor p = probs.to(at::kDouble).contiguous();
    nlohmann::json doc{
        {"logits", std::vector<double>(l.data_ptr<double>(), l.data_ptr<double>() + l.numel())},
        {"probabilities",
         std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel())},
        {"top", top},
        {"arch", info.arch},
        {"preset", preset_name}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("%s: %s, preset %s\n", a.image.c_str(), info.description.c_str(),
              preset_name.c_str());
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = top_i[j].item<int64_t>();
    std::printf("  %2lld. %-24s %8.4f  (class %lld)\n", static_cast<long long>(j + 1),
                label_of(i).c_str(), top_p[j].item<double>(), static_cast<long long>(i));
  }
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  sub.add_option("checkpoint", args->checkpoint, "checkpoint (.pth, .safetensors)")->required();
  sub.add_option("--image", args->image, "JPEG, PNG or .npy tensor [3,H,W] / [1,3,H,W]")
      ->required();
  sub.add_option("--arch", args->arch, "network (default: detected from the keys)");
  add_preprocess_flags(sub, args->preprocess);
  sub.add_option("--classes", args->classes,
                 "labels: {\"0\": \"daisy\", ...} JSON or one per line");
  sub.add_option("--topk", args->topk, "how many classes to list (default 5)");
  sub.add_option("--repeat", args->repeat, "diagnostic: time N more forward passes (stderr)");
  sub.add_flag("--json", args->json, "one JSON document on stdout");
  return [args] { run(*args); };
}

const Register reg{{"predict", "class probabilities and top-k labels for an image", setup, 50}};

}  // namespace
}  // namespace cnnscope::cli
