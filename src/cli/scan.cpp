// `cnnscope scan CKPT --images DIR|LIST [--layers ...] [--topk K] [--shard I/N] [-o DIR]`: runs
// the library's scan job (app/scan.h) with a progress bar (images/s, time left) on a terminal,
// and prints a line per layer (channels, dead, always on, the strongest channel) or scan.json
// itself with --json; each skipped image is a warning on stderr.
// Spec: the `scan` section of docs/DESIGN.md.
#include <cstdio>

#include "app/scan.h"
#include "app/scan_plan.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"

namespace cnnscope::cli {
namespace {

struct ScanFlags {
  app::ScanOptions job;
  bool json = false;
};

void print_scan(const app::ScanResult& r, const std::string& out) {
  print("%s: %s, preset %s, shard %s of %lld\n", r.checkpoint.c_str(), r.arch.c_str(),
        r.preset.c_str(),
        r.shards.size() == 1 ? std::to_string(r.shards.front()).c_str() : "several",
        static_cast<long long>(r.shard_count));
  print("images: %lld listed, %lld in this scan, %lld scanned, %zu skipped\n",
        static_cast<long long>(r.listed), static_cast<long long>(r.selected),
        static_cast<long long>(r.scanned), r.skipped.size());
  for (const app::ScanLayer& l : r.layers) {
    int64_t dead = 0, on = 0, best = -1;
    for (size_t c = 0; c < l.channels.size(); ++c) {
      dead += l.channels[c].dead();
      on += l.channels[c].always_on();
      if (best < 0 || l.channels[c].max > l.channels[static_cast<size_t>(best)].max)
        best = static_cast<int64_t>(c);
    }
    print("  %-16s %5zu channels  dead %4lld  always on %4lld", l.name.c_str(), l.channels.size(),
          static_cast<long long>(dead), static_cast<long long>(on));
    if (best >= 0 && !l.top[static_cast<size_t>(best)].hits().empty()) {
      const TopHit& hit = l.top[static_cast<size_t>(best)].hits().front();
      print("  strongest #%lld %.4g at (%lld, %lld) of %s", static_cast<long long>(best), hit.value,
            static_cast<long long>(hit.y), static_cast<long long>(hit.x),
            r.hit_images.at(hit.image).c_str());
    }
    std::printf("\n");
  }
  if (!r.classes.empty()) print("classes: %zu\n", r.classes.size());
  print("-> %s/scan.json\n", out.c_str());
}

void run_scan(const ScanFlags& f) {
  app::ScanResult r;
  {
    Progress progress("scan");
    r = app::run_scan(f.job, progress.rate_callback("images"));
  }
  for (const app::SkippedImage& s : r.skipped)
    print_to(stderr, "cnnscope: warning: skipped %s\n", s.error.c_str());
  if (f.json) {
    std::printf("%s\n", r.json.c_str());
    return;
  }
  print_scan(r, f.job.out);
}

const Register reg{
    {"scan", "per-channel statistics and top images of layers over a whole image set",
     [](CLI::App& sub) {
       auto f = std::make_shared<ScanFlags>();
       app::ScanOptions& o = f->job;
       add_checkpoint(sub, o.checkpoint);
       sub.add_option("--images", o.images,
                      "a folder (recursive; subfolders are classes) or a text file of paths")
           ->required();
       add_arch(sub, o.arch, o.transform_input);
       add_preprocess_flags(sub, o.preprocess);
       add_layers(sub, o.layers);
       sub.add_option("--topk", o.topk, "top images kept per channel")
           ->capture_default_str()
           ->check(CLI::Range(int64_t{1}, cnnscope::app::kMaxScanTopk));
       add_batch(sub, o.batch, "images per forward pass");
       add_threads(sub, o.threads);
       sub.add_option("--shard", o.shard,
                      "I/N: every N-th image from the I-th (1-based) of the sorted list")
           ->capture_default_str()
           ->check(parsed_by(app::parse_shard));
       add_out(sub, o.out, "output folder (scan.json)");
       add_json(sub, f->json);
       return [f] { run_scan(*f); };
     },
     62}};

}  // namespace
}  // namespace cnnscope::cli
