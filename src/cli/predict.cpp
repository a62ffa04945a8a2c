// `cnnscope predict CKPT --image IMG [--arch A] [--preset P] [--classes FILE] [--topk K] [--json]`:
// softmax probabilities and the top k with labels (app/predictions.h). One image. Hidden benchmark
// hook: --repeat N times N more forward passes in-process (bench/bench_forward.py). Spec: the
// `predict` section of docs/DESIGN.md.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/job_json.h"
#include "app/labels.h"
#include "app/predictions.h"
#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/error.h"
#include "common/text.h"
#include "image/input.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

constexpr int kMaxRepeat = 10000;

struct PredictFlags {
  std::string checkpoint;
  std::string image;
  std::string arch;
  std::optional<bool> transform_input;
  PreprocessSpec preprocess;
  std::string classes;
  int64_t topk = app::kDefaultTopK;
  int repeat = 0;
  bool json = false;
};

// Times `repeat` more forward passes of `input` on stderr.
void time_forward(const models::Network& net, const at::Tensor& input, int repeat) {
  if (repeat < 0 || repeat > kMaxRepeat)
    fail("", "--repeat must be 0.." + std::to_string(kMaxRepeat));
  if (repeat == 0) return;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) net.run(input);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  print_to(stderr, "forward: %.3f ms per image (%d runs, %d threads)\n",
           1e3 * took.count() / repeat, repeat, at::get_num_threads());
}

void run_predict(const PredictFlags& f) {
  const models::Network net =
      models::build_network(load_state_dict(f.checkpoint), {f.arch, f.transform_input});
  const models::ArchInfo& info = net.info();
  std::vector<std::string> labels;
  if (!f.classes.empty()) labels = app::read_labels(f.classes, info.num_classes);
  const PreprocessOptions options = resolve_preprocess(f.preprocess, info.default_preset);
  const std::string preset_name =
      ends_with(f.image, ".npy") ? "none (.npy used as is)" : options.name;
  const at::Tensor input = load_input(f.image, options).unsqueeze(0);  // [1, 3, H, W]
  const models::ForwardResult r = net.run(input);
  time_forward(net, input, f.repeat);
  const app::Predictions p = app::predict_top(r.logits[0], f.topk, labels);

  if (f.json) {
    std::printf("%s\n", app::predict_json(info, preset_name, p).dump().c_str());
    return;
  }
  print("%s: %s, preset %s\n", f.image.c_str(), info.description.c_str(), preset_name.c_str());
  for (size_t j = 0; j < p.top.size(); ++j)
    print("  %2zu. %-24s %8.4f  (class %lld)\n", j + 1, p.top[j].label.c_str(),
          p.top[j].probability, static_cast<long long>(p.top[j].index));
}

const Register reg{{"predict", "class probabilities and top-k labels for an image",
                    [](CLI::App& sub) {
                      auto f = std::make_shared<PredictFlags>();
                      add_checkpoint(sub, f->checkpoint);
                      sub.add_option("--image", f->image,
                                     "JPEG, PNG or .npy tensor [3,H,W] / [1,3,H,W]")
                          ->required();
                      add_arch(sub, f->arch, f->transform_input);
                      add_preprocess_flags(sub, f->preprocess);
                      add_classes(sub, f->classes);
                      add_topk(sub, f->topk);
                      add_bench_hook(sub.add_option("--repeat", f->repeat));
                      add_json(sub, f->json);
                      return [f] { run_predict(*f); };
                    },
                    50}};

}  // namespace
}  // namespace cnnscope::cli
