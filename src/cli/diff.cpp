// `cnnscope diff A B [--keys GLOB,...] [--sort change] [--json] [--plots DIR]`: what changed
// between two checkpoints (app/diff.h), as a table grouped by layer (or sorted by relative change)
// or one JSON document. Spec: the `diff` section of docs/DESIGN.md.
#include <fmt/format.h>

#include <cstdio>

#include "app/diff.h"
#include "app/job_json.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/error.h"
#include "common/text.h"
#include "export/stats_table.h"

namespace cnnscope::cli {
namespace {

struct DiffFlags {
  app::DiffOptions job;
  std::string sort = "name";
  bool json = false;
};

std::string brief(const std::optional<double>& v) {
  return v ? fmt::format("{:.4g}", *v) : "-";
}

void print_table(const app::DiffResult& r, bool grouped) {
  std::vector<std::vector<std::string>> rows = {{"tensor", "shape", "l2 A", "l2 B", "l2 B-A",
                                                 "rel change", "cosine", "max |B-A|", "changed"}};
  std::string layer;
  for (const app::DiffEntry& e : r.tensors) {
    std::string name = e.name;
    if (grouped) {
      if (layer_of(e.name) != layer || rows.size() == 1) {
        layer = layer_of(e.name);
        rows.push_back({layer});
      }
      name = "  " + (e.name == layer ? e.name : e.name.substr(layer.size() + 1));
    }
    const TensorDiff& d = e.diff;
    rows.push_back({name, dims_text(e.shape, "\u00d7"), fmt::format("{:.4g}", d.l2_a),
                    fmt::format("{:.4g}", d.l2_b), fmt::format("{:.4g}", d.l2_diff),
                    brief(d.rel_change), brief(d.cosine), fmt::format("{:.4g}", d.max_abs_diff),
                    fmt::format("{:.1f}%", 100.0 * d.changed_fraction)});
  }
  print("A: %s\nB: %s\n", r.a.c_str(), r.b.c_str());
  std::fputs(format_table(rows, {true, true}).c_str(), stdout);
  print("%zu tensors compared", r.tensors.size());
  if (!r.only_in_a.empty()) print("; only in A: %s", join(r.only_in_a, ", ").c_str());
  if (!r.only_in_b.empty()) print("; only in B: %s", join(r.only_in_b, ", ").c_str());
  for (const app::ShapeMismatch& m : r.shape_mismatch)
    print("; shape mismatch %s: %s vs %s", m.name.c_str(), shape_text(m.a).c_str(),
          shape_text(m.b).c_str());
  std::printf("\n");
}

void run_diff(const DiffFlags& f) {
  if (f.sort != "name" && f.sort != "change")
    fail("", "unknown --sort '" + f.sort + "'", "use name (file order, grouped) or change");
  app::DiffOptions o = f.job;
  o.sort_by_change = f.sort == "change";
  const app::DiffResult r = app::diff_checkpoints(o);
  if (f.json) {
    std::printf("%s\n", app::diff_json(r).dump().c_str());
  } else {
    print_table(r, !o.sort_by_change);
  }
  if (!o.plots.empty())
    print_to(f.json ? stderr : stdout, "plots: %zu figures in %s\n", r.figures, o.plots.c_str());
}

const Register reg{
    {"diff", "what changed between two checkpoints, tensor by tensor",
     [](CLI::App& sub) {
       auto f = std::make_shared<DiffFlags>();
       app::DiffOptions& o = f->job;
       sub.add_option("A", o.a, "the checkpoint before")->required();
       sub.add_option("B", o.b, "the checkpoint after")->required();
       add_keys(sub, o.keys);
       sub.add_option("--sort", f->sort, "name (file order, grouped by layer) | change")
           ->capture_default_str();
       add_json(sub, f->json);
       add_plots(sub, o.plots, "per layer A's and B's histograms overlaid, and relative change,");
       add_format(sub, o.format);
       add_bins(sub, o.bins);
       return [f] { run_diff(*f); };
     },
     64}};

}  // namespace
}  // namespace cnnscope::cli
