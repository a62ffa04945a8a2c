// `cnnscope explain CKPT --image IMG... [--method M,...] [--layer L] [--class K] [--steps N]
// [--samples N --noise S] [--batch N] [-o DIR] [--npy] [--json] [--cmap C] [--alpha A]`: runs the
// library's explain job (app/explain.h) and prints a line per image and method, or the typed
// result as one JSON document. Spec: the `explain` section of docs/DESIGN.md.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/explain.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"
#include "explain/methods.h"

namespace cnnscope::cli {
namespace {

struct ExplainFlags {
  app::ExplainOptions job;
  int64_t target = -1;  // --class; unset: top-1
  bool target_given = false;
  bool json = false;
};

void run_explain(const ExplainFlags& f) {
  app::ExplainOptions o = f.job;
  if (f.target_given) o.target = f.target;
  app::ExplainResult r;
  {
    Progress progress("explain");
    r = app::run_explain(o, progress.callback());
  }
  if (f.json) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const app::ImageExplanation& image : r.images) {
      nlohmann::ordered_json methods = nlohmann::ordered_json::array();
      for (const app::MethodExplanation& m : image.methods) {
        nlohmann::ordered_json j{{"method", m.method},
                                 {"layer", m.layer.empty() ? nlohmann::ordered_json(nullptr)
                                                           : nlohmann::ordered_json(m.layer)},
                                 {"files", m.files},
                                 {"delta", m.delta ? nlohmann::ordered_json(*m.delta)
                                                   : nlohmann::ordered_json(nullptr)}};
        methods.push_back(std::move(j));
      }
      images.push_back({{"image", image.image},
                        {"class", image.target},
                        {"label", image.label},
                        {"score", image.score},
                        {"methods", std::move(methods)}});
    }
    const nlohmann::ordered_json doc{{"checkpoint", r.checkpoint}, {"images", std::move(images)}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  for (const app::ImageExplanation& image : r.images) {
    print("%s: class %lld (%s) %.4f\n", image.image.c_str(), static_cast<long long>(image.target),
          image.label.c_str(), image.score);
    for (const app::MethodExplanation& m : image.methods) {
      print("  %-21s", m.method.c_str());
      if (!m.layer.empty()) print(" layer %s", m.layer.c_str());
      if (m.delta) print(" delta %.3g", *m.delta);
      print("  -> %s\n", m.files.front().c_str());
    }
  }
}

const Register reg{
    {"explain", "why a class: Grad-CAM family maps and pixel attributions (saliency, IG, ...)",
     [](CLI::App& sub) {
       auto f = std::make_shared<ExplainFlags>();
       app::ExplainOptions& o = f->job;
       add_checkpoint(sub, o.checkpoint);
       add_images(sub, o.images)->required();
       add_arch(sub, o.arch, o.transform_input);
       add_preprocess_flags(sub, o.preprocess);
       add_classes(sub, o.classes);
       sub.add_option("--method", o.methods,
                      alternatives(explain::method_names()) + "; comma-separated")
           ->delimiter(',')
           ->capture_default_str()
           ->check(names("method", explain::method_names(), "see --help"));
       sub.add_option("--layer", o.layer, "CAM layer (a module name; default: per family)");
       sub.add_option_function<int64_t>(
           "--class",
           [f](const int64_t& k) {
             f->target = k;
             f->target_given = true;
           },
           "target class index (default: each image's top-1)");
       sub.add_option("--steps", o.attribution.steps, "integrated gradients: Gauss-Legendre steps")
           ->capture_default_str()
           ->check(at_least(1));
       sub.add_option("--samples", o.attribution.samples, "smoothgrad: noisy samples")
           ->capture_default_str()
           ->check(at_least(1));
       sub.add_option("--noise", o.attribution.noise,
                      "smoothgrad: noise standard deviation (normalized input units)")
           ->capture_default_str()
           ->check(at_least(0));
       add_batch(sub, o.attribution.batch, "images per forward; steps/samples per forward");
       add_out(sub, o.out, "output folder (several images: one subfolder each)");
       add_npy(sub, o.npy, "<method>.npy (and <method>_layer.npy for CAMs)");
       add_json(sub, f->json);
       add_cmap(sub, o.cmap);
       sub.add_option("--alpha", o.alpha, "the heat map's weight over the image (0..1)")
           ->capture_default_str()
           ->check(CLI::Range(0.0, 1.0));
       return [f] { run_explain(*f); };
     },
     65}};

}  // namespace
}  // namespace cnnscope::cli
