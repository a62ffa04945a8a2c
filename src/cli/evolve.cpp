// `cnnscope evolve CKPT CKPT ... | DIR [--keys GLOB,...] [-o DIR] [--json] [--tensorboard DIR]`:
// a checkpoint series (app/evolve.h) as a table of the last step against the first, or one JSON
// document with every figure per step; figures, the page and TensorBoard steps on request.
// Spec: the `evolve` section of docs/DESIGN.md.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/evolve.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"
#include "cli/similarity_flags.h"
#include "common/text.h"
#include "export/stats_table.h"

namespace cnnscope::cli {
namespace {

struct EvolveFlags {
  app::EvolveOptions job;
  bool json = false;
  bool similarity = false;
  app::SimilarityInputs inputs;  // used with --similarity
  std::string kernel = "linear";
};

nlohmann::json values(const std::vector<std::optional<double>>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& x : v) out.push_back(x ? nlohmann::json(*x) : nlohmann::json(nullptr));
  return out;
}

std::string brief(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "-";
}

// The last checkpoint's CKA row is 1 by definition; the table shows the first and the middle.
void print_layers(const app::EvolveResult& r) {
  if (r.spectra) {
    std::fputs("alpha per layer (first -> last checkpoint):\n", stdout);
    for (size_t l = 0; l < r.spectra->layers.size(); ++l)
      print("  %-28s %s -> %s\n", r.spectra->layers[l].c_str(),
            brief(r.spectra->alpha.front()[l]).c_str(), brief(r.spectra->alpha.back()[l]).c_str());
  }
  if (r.similarity) {
    print("CKA to the last checkpoint over %lld images (first, middle checkpoint):\n",
          static_cast<long long>(r.similarity->used));
    const auto& rows = r.similarity->values;
    for (size_t l = 0; l < r.similarity->layers.size(); ++l)
      print("  %-28s %s, %s\n", r.similarity->layers[l].c_str(), brief(rows.front()[l]).c_str(),
            brief(rows[rows.size() / 2][l]).c_str());
  }
}

void run_evolve(EvolveFlags& f) {
  if (f.similarity) {
    if (f.inputs.images.empty())
      fail("", "CKA over a series needs images", "give --images DIR|LIST with --similarity");
    f.inputs.cka.kernel = parse_cka_kernel(f.kernel);
    f.job.similarity = f.inputs;
  }
  app::EvolveResult r;
  {
    Progress progress("evolve");
    r = app::evolve_checkpoints(f.job, progress.callback());
  }
  if (r.similarity)
    for (const app::SkippedImage& s : r.similarity->skipped)
      print_to(stderr, "cnnscope: warning: skipped %s\n", s.error.c_str());
  if (f.json) {
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const app::EvolveTensor& t : r.tensors)
      tensors.push_back({{"name", t.name},
                         {"shape", t.shape},
                         {"l2", values(t.l2)},
                         {"mean", values(t.mean)},
                         {"std", values(t.std)},
                         {"rel_change_from_first", values(t.rel_change_from_first)},
                         {"rel_change_from_previous", values(t.rel_change_from_previous)},
                         {"histogram", {{"edges", t.edges}, {"counts", t.counts}}}});
    const nlohmann::ordered_json doc{
        {"checkpoints", r.checkpoints},
        {"steps", r.steps},
        {"step_source", r.step_source},
        {"bins", f.job.bins},
        {"tensors", std::move(tensors)},
        {"problems", r.problems},
        {"figures", r.figures},
        {"html", r.html.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.html)},
        {"tensorboard",
         r.tensorboard.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.tensorboard)},
        {"layers", app::evolve_layers_json(r, f.job)}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  print("%zu checkpoints, steps by %s: %s .. %s\n", r.checkpoints.size(), r.step_source.c_str(),
        r.checkpoints.front().c_str(), r.checkpoints.back().c_str());
  std::vector<std::vector<std::string>> rows = {
      {"tensor", "shape", "l2 first", "l2 last", "change from first", "last step's change"}};
  std::string layer;
  for (const app::EvolveTensor& t : r.tensors) {
    if (layer_of(t.name) != layer || rows.size() == 1) {
      layer = layer_of(t.name);
      rows.push_back({layer});
    }
    rows.push_back({"  " + (t.name == layer ? t.name : t.name.substr(layer.size() + 1)),
                    dims_text(t.shape, "\u00d7"), brief(t.l2.front()), brief(t.l2.back()),
                    brief(t.rel_change_from_first.back()),
                    brief(t.rel_change_from_previous.back())});
  }
  std::fputs(format_table(rows, {true, true}).c_str(), stdout);
  print_layers(r);
  for (const std::string& p : r.problems) print("mismatch: %s\n", p.c_str());
  if (!r.figures.empty()) print("figures: %zu in %s\n", r.figures.size(), f.job.out.c_str());
  if (!r.html.empty()) print("page: %s\n", r.html.c_str());
  if (!r.tensorboard.empty()) print("tensorboard: %s\n", r.tensorboard.c_str());
}

const Register reg{
    {"evolve", "a series of checkpoints: how every tensor moved, step by step",
     [](CLI::App& sub) {
       auto f = std::make_shared<EvolveFlags>();
       app::EvolveOptions& o = f->job;
       sub.add_option("CKPT", o.inputs,
                      "checkpoints in order, or one folder of them (a train run: its "
                      "epoch_NNN.pth, best.pth and last.pth left out)")
           ->required();
       add_keys(sub, o.keys);
       add_bins(sub, o.bins);
       add_out(sub, o.out, "folder for figures and evolve.html (default: none)");
       add_format(sub, o.format);
       add_json(sub, f->json);
       add_tensorboard(sub, o.tensorboard);
       sub.add_option("--frame-ms", o.frame_ms, "filter animation: milliseconds per checkpoint")
           ->capture_default_str();
       sub.add_flag("--spectra", o.spectra, "also each layer's power-law alpha per checkpoint");
       sub.add_flag("--similarity", f->similarity,
                    "also each layer's CKA to the last checkpoint over --images");
       add_similarity_flags(sub, f->inputs, f->kernel, "with --similarity: ");
       return [f] { run_evolve(*f); };
     },
     66}};

}  // namespace
}  // namespace cnnscope::cli
