// `cnnscope similarity A [B] --images DIR|LIST [--layers ..|all] [--kernel linear|rbf]
// [--unbiased] [--batch 32] [-o DIR] [--json]`: runs the library's CKA job (app/similarity.h) with
// a progress bar, and prints the matrix as a table (or similarity.json with --json); each skipped
// image is a warning on stderr. Spec: the `similarity` section of docs/DESIGN.md.
#include <cstdio>
#include <filesystem>

#include "app/similarity.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "cli/progress.h"
#include "cli/similarity_flags.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct SimilarityFlags {
  app::SimilarityOptions job;
  std::string kernel = "linear";
  bool json = false;
};

void print_similarity(const app::SimilarityResult& r) {
  print("%s (%s) against %s (%s): %s CKA%s over %lld images in %lld minibatches\n", r.a.c_str(),
        r.arch_a.c_str(), r.b.empty() ? "itself" : r.b.c_str(), r.arch_b.c_str(),
        cka_kernel_name(r.cka.kernel), r.cka.unbiased ? " (unbiased)" : "",
        static_cast<long long>(r.used), static_cast<long long>(r.batches));
  if (r.left_out > 0)
    print(
        "  %lld images left out: a minibatch (the list's last, or a run of one image size) "
        "held fewer than the estimator needs\n",
        static_cast<long long>(r.left_out));
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> head{""};
  for (size_t j = 0; j < r.cols.size(); ++j) head.push_back(std::to_string(j));
  table.push_back(head);
  for (size_t i = 0; i < r.rows.size(); ++i) {
    std::vector<std::string> line{r.rows[i]};
    for (const std::optional<double>& v : r.values[i])
      line.push_back(v ? fixed_or_dash(*v, 3) : "n/a");
    table.push_back(line);
  }
  std::vector<bool> left(head.size(), false);
  left[0] = true;
  std::fputs(format_table(table, left).c_str(), stdout);
  for (size_t j = 0; j < r.cols.size(); ++j) print("  %zu: %s\n", j, r.cols[j].c_str());
  const std::string json =
      (std::filesystem::path(r.figure).parent_path() / "similarity.json").string();
  print("-> %s, %s\n", r.figure.c_str(), json.c_str());
}

void run_similarity(SimilarityFlags& f) {
  f.job.inputs.cka.kernel = parse_cka_kernel(f.kernel);
  app::SimilarityResult r;
  {
    Progress progress("similarity");
    r = app::run_similarity(f.job, progress.rate_callback("images"));
  }
  for (const app::SkippedImage& s : r.skipped)
    print_to(stderr, "cnnscope: warning: skipped %s\n", s.error.c_str());
  if (f.json) {
    std::printf("%s\n", r.json.c_str());
    return;
  }
  print_similarity(r);
}

const Register reg{
    {"similarity", "centred kernel alignment (CKA) between the layers of one or two networks",
     [](CLI::App& sub) {
       auto f = std::make_shared<SimilarityFlags>();
       app::SimilarityOptions& o = f->job;
       add_checkpoint(sub, o.a);
       sub.add_option("B", o.b, "a second checkpoint: A's layers against B's (default: A's own)");
       add_similarity_flags(sub, o.inputs, f->kernel, "");
       sub.get_option("--images")->required();
       add_format(sub, o.format);
       add_out(sub, o.out, "output folder (similarity.json and the heat map)");
       add_json(sub, f->json);
       return [f] { run_similarity(*f); };
     },
     67}};

}  // namespace
}  // namespace cnnscope::cli
