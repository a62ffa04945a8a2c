// `cnnscope predict CKPT --image IMG|DIR... [--arch A] [--preset P] [--classes FILE] [--topk K]
// [--json]`: softmax probabilities and the top k with labels (app/predictions.h), per image. Hidden
// benchmark hook: --repeat N times N more forward passes of the first image in-process
// (bench/bench_forward.py). Spec: the `predict` section of docs/DESIGN.md.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/image_list.h"
#include "app/job_json.h"
#include "app/labels.h"
#include "app/network_input.h"
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
  std::vector<std::string> images;
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

void print_top(const app::Predictions& p) {
  for (size_t j = 0; j < p.top.size(); ++j)
    print("  %2zu. %-24s %8.4f  (class %lld)\n", j + 1, p.top[j].label.c_str(),
          p.top[j].probability, static_cast<long long>(p.top[j].index));
}

void run_predict(const PredictFlags& f) {
  const std::vector<std::string> images = app::expand_images(f.images);
  const models::Network net =
      models::build_network(load_state_dict(f.checkpoint), {f.arch, f.transform_input});
  const models::ArchInfo& info = net.info();
  const std::vector<std::string> labels = app::labels_or_run(f.classes, info);
  const PreprocessOptions options = app::network_preprocess(f.preprocess, info);
  const bool npy = std::all_of(images.begin(), images.end(),
                               [](const std::string& i) { return ends_with(i, ".npy"); });
  const std::string preset_name = npy ? "none (.npy used as is)" : options.name;
  const std::vector<app::ImagePredictions> results =
      app::predict_images(net, images, options, f.topk, labels);
  if (f.repeat != 0)
    time_forward(net, load_input(images.front(), options).unsqueeze(0), f.repeat);  // [1,C,H,W]
  const bool single = f.images.size() == 1 && images.size() == 1 && images[0] == f.images[0];

  if (f.json) {
    const nlohmann::json doc = single ? app::predict_json(info, preset_name, results[0].predictions)
                                      : app::predict_images_json(info, preset_name, results);
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  if (single) {
    print("%s: %s, preset %s\n", images[0].c_str(), info.description.c_str(), preset_name.c_str());
    print_top(results[0].predictions);
    return;
  }
  print("%s: %s, preset %s\n", f.checkpoint.c_str(), info.description.c_str(), preset_name.c_str());
  for (const app::ImagePredictions& r : results) {
    print("%s\n", r.image.c_str());
    print_top(r.predictions);
  }
}

const Register reg{{"predict", "class probabilities and top-k labels for images and folders",
                    [](CLI::App& sub) {
                      auto f = std::make_shared<PredictFlags>();
                      add_checkpoint(sub, f->checkpoint);
                      add_images(sub, f->images)->required();
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
