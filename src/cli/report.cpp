// `cnnscope report CKPT [--image IMG]... [-o report.html] [--tensorboard DIR]`: one self-contained
// HTML page (app/report.h) and optionally TensorBoard event files; prints where they are. Images
// that cannot be used are warnings (`cnnscope: warning: ...`), not failures. Spec: the `report`
// section of docs/DESIGN.md.
#include <cstdio>

#include "app/report.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"

namespace cnnscope::cli {
namespace {

// A network the report cannot run is a warning with the error's way out below it.
void warn(const std::string& message) {
  print_problem("warning", message, "warning", kMaxErrorLines);
}

struct ReportFlags {
  app::ReportOptions job;
};

void run_report(const ReportFlags& f) {
  app::ReportResult r;
  {
    Progress progress("report");
    r = app::write_report(f.job, warn, progress.callback());
  }
  print("report: %s\n", r.html.c_str());
  if (!r.tensorboard.empty()) print("tensorboard: %s\n", r.tensorboard.c_str());
}

const Register reg{
    {"report", "one self-contained HTML page (and TensorBoard files) for a checkpoint",
     [](CLI::App& sub) {
       auto f = std::make_shared<ReportFlags>();
       app::ReportOptions& o = f->job;
       add_checkpoint(sub, o.checkpoint);
       add_images(sub, o.images);
       add_out(sub, o.out, "HTML file to write");
       add_tensorboard(sub, o.tensorboard);
       add_arch(sub, o.arch, o.transform_input);
       add_preprocess_flags(sub, o.preprocess);
       add_layers(sub, o.layers);
       add_classes(sub, o.classes);
       add_topk(sub, o.topk);
       add_channels(sub, o.channels);
       add_cmap(sub, o.cmap);
       add_bins(sub, o.bins);
       sub.add_option("--scan", o.scan, "a `scan`/`merge` output folder: adds a data set section");
       sub.add_flag("--spectra", o.spectra, "adds each layer's spectral health (see spectra)");
       sub.add_option("--similarity", o.similarity,
                      "a `similarity` or `evolve -o` output folder: adds its CKA between layers "
                      "(or alpha and CKA over the series)");
       return [f] { run_report(*f); };
     },
     90}};

}  // namespace
}  // namespace cnnscope::cli
