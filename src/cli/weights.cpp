// `cnnscope weights CKPT [--keys GLOB,...] [--bins N] [--json|--csv] [--plots DIR] [--format F]`:
// per-tensor statistics and numpy-exact histograms (app/weights.h) printed as a table, JSON or
// CSV (export/stats_table.h). Spec: the `weights` section of docs/DESIGN.md.
#include <iostream>

#include "app/weights.h"
#include "cli/command.h"
#include "cli/flags.h"

namespace cnnscope::cli {
namespace {

struct WeightsFlags {
  std::string checkpoint;
  app::WeightsOptions job;
  bool json = false;
  bool csv = false;
  std::string plots;
  std::string format = "png";
  std::string tensorboard;
};

void run_weights(const WeightsFlags& f) {
  const FigureFormat format = parse_figure_format(f.format);
  check_bins(f.job.bins);
  const StateDict sd = load_state_dict(f.checkpoint);
  const WeightsReport report = app::compute_weights(sd, f.job);
  size_t figures = 0;
  if (!f.plots.empty()) figures = app::write_weight_plots(report, f.plots, format);

  if (f.json) {
    std::cout << weights_json(report).dump() << "\n";
  } else if (f.csv) {
    std::cout << weights_csv(report);
  } else {
    std::cout << weights_table(report);
  }
  if (!f.plots.empty())
    (f.json || f.csv ? std::cerr : std::cout)
        << "plots: " << figures << " figures in " << f.plots << "\n";
  if (!f.tensorboard.empty())
    std::cerr << "tensorboard: " << app::write_weight_histograms(sd, report, f.tensorboard) << "\n";
}

const Register reg{
    {"weights", "per-tensor statistics and histograms of a checkpoint (table, JSON, CSV, plots)",
     [](CLI::App& sub) {
       auto f = std::make_shared<WeightsFlags>();
       add_checkpoint(sub, f->checkpoint);
       add_keys(sub, f->job.keys);
       add_bins(sub, f->job.bins);
       CLI::Option* json = add_json(sub, f->json);
       sub.add_flag("--csv", f->csv, "CSV on stdout")->excludes(json);
       add_plots(sub, f->plots, "one histogram per tensor + overview");
       add_tensorboard(sub, f->tensorboard);
       add_format(sub, f->format);
       return [f] { run_weights(*f); };
     },
     60}};

}  // namespace
}  // namespace cnnscope::cli
