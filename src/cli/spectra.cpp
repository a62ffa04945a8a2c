// `cnnscope spectra CKPT [--layers GLOB,...] [--traps] [-o DIR] [--json]`: runs the library's
// spectra job (app/spectra.h) and prints a table per layer (alpha, weighted alpha, KS distance,
// log spectral norm, stable rank, tail spikes, warning) and the summary, or one JSON document.
// Spec: the `spectra` section of docs/DESIGN.md.
#include <fmt/format.h>

#include <cstdio>

#include "app/spectra.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct SpectraFlags {
  app::SpectraJobOptions job;
  bool json = false;
  bool eigenvalues = false;
};

std::string number(bool ok, double v, int decimals = 3) {
  return ok ? fixed_or_dash(v, decimals) : "-";
}

void print_spectra(const app::SpectraResult& r, bool traps) {
  std::vector<std::vector<std::string>> rows = {{"layer", "type", "shape", "evals", "alpha",
                                                 "alpha_w", "D", "log10 lmax", "stable rank",
                                                 "tail", "warning"}};
  if (traps) rows[0].insert(rows[0].end() - 1, "traps");
  for (const LayerSpectrum& l : r.layers) {
    std::vector<std::string> row{l.name,
                                 l.type,
                                 dims_text(l.shape, "\u00d7"),
                                 std::to_string(l.eigenvalues.size()),
                                 number(l.fit.ok, l.fit.alpha),
                                 number(l.fit.ok, l.alpha_weighted),
                                 number(l.fit.ok, l.fit.D),
                                 number(true, l.log_spectral_norm),
                                 number(true, l.stable_rank, 1),
                                 l.fit.ok ? std::to_string(l.num_pl_spikes) : "-",
                                 l.warning};
    if (traps) row.insert(row.end() - 1, std::to_string(l.correlation_traps.value_or(0)));
    rows.push_back(std::move(row));
  }
  std::fputs(format_table(rows, {true, true, true}).c_str(), stdout);
  const app::SpectraSummary& s = r.summary;
  print(
      "%zu layers: mean alpha %s, alpha_weighted %s, log_norm %s, log_spectral_norm %s, "
      "stable_rank %s; %lld over-trained (alpha < 2), %lld under-trained (alpha > 6)\n",
      r.layers.size(), fixed_or_dash(s.alpha, 3).c_str(),
      fixed_or_dash(s.alpha_weighted, 3).c_str(), fixed_or_dash(s.log_norm, 3).c_str(),
      fixed_or_dash(s.log_spectral_norm, 3).c_str(), fixed_or_dash(s.stable_rank, 1).c_str(),
      static_cast<long long>(s.over_trained), static_cast<long long>(s.under_trained));
  if (!r.figures.empty())
    print("-> %zu ESD figures, %s\n", r.figures.size(), r.json.empty() ? "" : "spectra.json");
}

void run_spectra(const SpectraFlags& f) {
  const app::SpectraResult r = app::run_spectra(f.job);
  if (f.json) {
    std::printf("%s\n", app::spectra_json(r, f.eigenvalues)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
    return;
  }
  print_spectra(r, f.job.spectra.traps);
  if (!f.job.out.empty()) print("   in %s\n", f.job.out.c_str());
}

const Register reg{
    {"spectra", "spectral health of each Linear/Conv2d layer (WeightWatcher's alpha and norms)",
     [](CLI::App& sub) {
       auto f = std::make_shared<SpectraFlags>();
       app::SpectraJobOptions& o = f->job;
       add_checkpoint(sub, o.checkpoint);
       sub.add_option("--layers", o.spectra.layers,
                      "only layers whose name (the key without .weight) matches one of these globs")
           ->delimiter(',');
       sub.add_flag("--traps", o.spectra.traps,
                    "also correlation traps: each layer's entries shuffled, spikes above the "
                    "Marchenko-Pastur edge");
       add_seed(sub, o.spectra.seed, "the --traps shuffles");
       add_out(sub, o.out, "folder for spectra.json and esd/<layer> figures (default: none)");
       add_format(sub, o.format);
       CLI::Option* json = add_json(sub, f->json);
       sub.add_flag("--eigenvalues", f->eigenvalues, "with --json: every layer's eigenvalues too")
           ->needs(json);
       return [f] { run_spectra(*f); };
     },
     68}};

}  // namespace
}  // namespace cnnscope::cli
