// `cnnscope summary CKPT [--arch A] [--input-size N] [--json]`: what was detected, then the module
// tree as print(model) shows it with output shapes, parameters and multiply-adds (app/summary.h).
// `cnnscope summary --list-archs`: the names --arch takes, one a line (no CKPT needed).
// Spec: the `summary` section of docs/DESIGN.md.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/job_json.h"
#include "app/summary.h"
#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/escape.h"
#include "common/text.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

struct SummaryFlags {
  std::string checkpoint;
  std::string arch;
  std::optional<bool> transform_input;
  std::optional<int64_t> input_size;  // none: app::default_input_size (the default preset's)
  bool json = false;
};

void run_summary(const SummaryFlags& f) {
  const models::Network net =
      models::build_network(load_state_dict(f.checkpoint), {f.arch, f.transform_input});
  const app::Summary s = f.input_size ? app::summarize(net, *f.input_size) : app::summarize(net);
  const models::ArchInfo& info = net.info();
  if (f.json) {
    std::printf("%s\n", app::summary_json(info, s).dump(1).c_str());
    return;
  }

  std::vector<std::string> left;
  size_t width = 0;
  for (const app::SummaryRow& row : s.rows) {
    const std::string text = escape_control(std::string(2 * row.tap->depth, ' ') + row.tap->name +
                                            ": " + (row.tap->leaf ? row.tap->repr : row.tap->type));
    width = std::max(width, text.size());
    left.push_back(text);
  }
  const auto line = [&](const std::string& name, const std::string& shape,
                        const std::string& params, const std::string& mult_adds) {
    print("%-*s  %-20s %12s %16s\n", static_cast<int>(width), name.c_str(), shape.c_str(),
          params.c_str(), mult_adds.c_str());
  };
  print("%s\n%s\n", f.checkpoint.c_str(), info.description.c_str());
  line("Layer (input " + shape_text(s.input_shape) + ")", "Output shape", "Params", "Mult-adds");
  line(s.root, shape_text(s.output_shape), thousands(s.params), thousands(s.mult_adds));
  for (size_t i = 0; i < s.rows.size(); ++i)
    line(left[i], s.rows[i].ran ? shape_text(s.rows[i].output_shape) : "(no tensor)",
         thousands(s.rows[i].tap->params),
         s.rows[i].mult_adds ? thousands(s.rows[i].mult_adds) : "--");
  constexpr double kMega = 1e6;
  constexpr double kGiga = 1e9;
  print("Total params: %s (%.2f M)\nTotal mult-adds: %s (%.3f G)\nDefault preset: %s\n",
        thousands(s.params).c_str(), static_cast<double>(s.params) / kMega,
        thousands(s.mult_adds).c_str(), static_cast<double>(s.mult_adds) / kGiga,
        info.default_preset.c_str());
}

// Prints the --arch names and ends the parse with success, before CKPT is checked (as --version).
void list_archs() {
  for (const std::string& arch : models::known_archs()) print("%s\n", arch.c_str());
  std::fflush(stdout);
  throw CLI::Success();
}

const Register reg{{"summary", "the rebuilt network: layers, output shapes, parameters, mult-adds",
                    [](CLI::App& sub) {
                      auto f = std::make_shared<SummaryFlags>();
                      add_checkpoint(sub, f->checkpoint);
                      sub.add_flag_callback("--list-archs", list_archs,
                                            "print the names --arch takes, one a line, and exit");
                      add_arch(sub, f->arch, f->transform_input);
                      sub.add_option("--input-size", f->input_size,
                                     "input height and width (default: the default preset's crop, "
                                     "224 for ImageNet nets)");
                      add_json(sub, f->json);
                      return [f] { run_summary(*f); };
                    },
                    30}};

}  // namespace
}  // namespace cnnscope::cli
