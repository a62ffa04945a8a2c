// `cnnscope features CKPT --image IMG... [-o DIR]`: runs the library's features job
// (app/features.h) and prints what it wrote: a line per image and layer, or the typed result as one
// JSON document. Spec: the `features` section of docs/DESIGN.md.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/features.h"
#include "app/job_json.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct FeaturesFlags {
  app::FeaturesOptions job;
  bool json = false;
};

void run_features(const FeaturesFlags& f) {
  const app::FeaturesOptions& o = f.job;
  app::FeaturesResult r;
  {
    Progress progress("features");
    r = app::run_features(o, progress.callback());
  }
  if (!r.tensorboard.empty()) print_to(stderr, "tensorboard: %s\n", r.tensorboard.c_str());
  if (f.json) {
    std::printf("%s\n", app::features_json(o.checkpoint, o, r).dump().c_str());
    return;
  }
  print("%s: %s, preset %s\n", o.checkpoint.c_str(), r.info.description.c_str(), r.preset.c_str());
  for (const app::ImageFeatures& image : r.images) {
    print("%s\n", image.image.c_str());
    for (const app::LayerFeatures& l : image.layers) {
      print("  %-14s %s  zeros %5.1f%%  dead channels %lld/%zu  -> %s\n", l.name.c_str(),
            shape_text(l.stats.shape).c_str(), 100.0 * l.stats.layer.zero_fraction,
            static_cast<long long>(l.dead_channels), l.stats.channels.size(), l.figure.c_str());
    }
  }
}

const Register reg{{"features", "feature-map figures, arrays and statistics of any layer",
                    [](CLI::App& sub) {
                      auto f = std::make_shared<FeaturesFlags>();
                      app::FeaturesOptions& o = f->job;
                      add_checkpoint(sub, o.checkpoint);
                      add_images(sub, o.images)->required();
                      add_arch(sub, o.arch, o.transform_input);
                      add_preprocess_flags(sub, o.preprocess);
                      add_layers(sub, o.layers);
                      add_channels(sub, o.channels);
                      sub.add_option("--pick", o.pick, "first | top (largest mean activation)")
                          ->capture_default_str();
                      add_cmap(sub, o.cmap);
                      sub.add_option(
                             "--scale", o.scale,
                             "channel (each its own min..max) | layer (one range, colorbar)")
                          ->capture_default_str();
                      add_format(sub, o.format);
                      add_npy(sub, o.npy,
                              "each activation as <layer>.npy (float32, the module's output "
                              "shape: [C,H,W], [D], ...)");
                      add_json(sub, f->json);
                      add_batch(sub, o.batch, "images per forward pass");
                      add_out(sub, o.out, "output folder (several images: one subfolder each)");
                      add_tensorboard(sub, o.tensorboard);
                      return [f] { run_features(*f); };
                    },
                    60}};

}  // namespace
}  // namespace cnnscope::cli
