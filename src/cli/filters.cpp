// `cnnscope filters CKPT [--layer NAME] [-o FILE] [--scale kernel|layer] [--mode ...]`: a
// convolution's kernels as a picture, through app/filters.h. Spec: the `filters` section of
// docs/DESIGN.md.
#include <cstdio>

#include "app/filters.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct FiltersFlags {
  app::FiltersOptions job;
  std::string scale = "kernel";
  std::string mode = "auto";
};

void run_filters(const FiltersFlags& f) {
  app::FiltersOptions o = f.job;
  o.mosaic.scale = parse_filter_scale(f.scale);
  o.mosaic.mode = parse_filter_mode(f.mode);
  const app::FiltersResult r = app::write_filters_figure(o);
  print("%s: %s %s -> %s\n", r.file.c_str(), r.key.c_str(), shape_text(r.shape).c_str(),
        o.out.c_str());
}

const Register reg{
    {"filters", "a convolution's kernels as a picture (first conv by default)",
     [](CLI::App& sub) {
       auto f = std::make_shared<FiltersFlags>();
       app::FiltersOptions& o = f->job;
       add_checkpoint(sub, o.checkpoint);
       sub.add_option("--layer", o.layer, "conv layer or weight key (default: the first conv)");
       add_out(sub, o.out, "output figure (.png, .svg or .pdf)");
       sub.add_option("--scale", f->scale, "kernel: each kernel its own range; layer: one range")
           ->capture_default_str();
       sub.add_option("--mode", f->mode,
                      "auto, rgb (C_in = 3), channels (gray tile per input channel) or mean")
           ->capture_default_str();
       sub.add_option("--max-kernels", o.mosaic.max_kernels, "kernels shown (0: all)")
           ->capture_default_str();
       sub.add_option("--max-channels", o.mosaic.max_channels,
                      "input channels per kernel, channels mode")
           ->capture_default_str();
       return [f] { run_filters(*f); };
     },
     62}};

}  // namespace
}  // namespace cnnscope::cli
