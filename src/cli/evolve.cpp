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
#include "common/text.h"
#include "export/stats_table.h"

namespace cnnscope::cli {
namespace {

struct EvolveFlags {
  app::EvolveOptions job;
  bool json = false;
};

nlohmann::json values(const std::vector<std::optional<double>>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& x : v) out.push_back(x ? nlohmann::json(*x) : nlohmann::json(nullptr));
  return out;
}

std::string brief(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "-";
}

void run_evolve(const EvolveFlags& f) {
  app::EvolveResult r;
  {
    Progress progress("evolve");
    r = app::evolve_checkpoints(f.job, progress.callback());
  }
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
         r.tensorboard.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.tensorboard)}};
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
       return [f] { run_evolve(*f); };
     },
     66}};

}  // namespace
}  // namespace cnnscope::cli
