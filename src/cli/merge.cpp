// `cnnscope merge DIR... -o DIR`: combines `scan --shard` outputs (app/scan_merge.h run_merge) into
// one scan.json and prints its path, or the document with --json. Spec: the `merge` section of
// docs/DESIGN.md.
#include <cstdio>

#include "app/scan_merge.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"

namespace cnnscope::cli {
namespace {

struct MergeFlags {
  app::MergeOptions job;
  bool json = false;
};

void run_merge(const MergeFlags& f) {
  const app::ScanResult r = app::run_merge(f.job);
  if (f.json) {
    std::printf("%s\n", r.json.c_str());
    return;
  }
  print("merged %zu of %lld shards: %lld images scanned, %zu skipped -> %s/scan.json\n",
        r.shards.size(), static_cast<long long>(r.shard_count), static_cast<long long>(r.scanned),
        r.skipped.size(), f.job.out.c_str());
}

const Register reg{
    {"merge", "combine the outputs of scan --shard I/N into one scan.json",
     [](CLI::App& sub) {
       auto f = std::make_shared<MergeFlags>();
       sub.add_option("DIR", f->job.dirs, "scan output folders, one per shard")->required();
       add_out(sub, f->job.out, "output folder (scan.json)");
       add_json(sub, f->json);
       return [f] { run_merge(*f); };
     },
     63}};

}  // namespace
}  // namespace cnnscope::cli
