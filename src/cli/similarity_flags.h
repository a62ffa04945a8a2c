// The flags of a CKA estimate, shared by `similarity` and `evolve --similarity` so each has one
// spelling and one help text: --images, --arch, the preprocessing flags, --layers (default all),
// --kernel, --rbf-threshold, --unbiased, --batch, --limit, --threads.
#pragma once

#include "app/similarity.h"
#include "cli/flags.h"

namespace cnnscope::cli {

// `when` prefixes each help text ("with --similarity: "), "" for the command of its own.
inline void add_similarity_flags(CLI::App& sub, app::SimilarityInputs& in, std::string& kernel,
                                 const std::string& when) {
  sub.add_option("--images", in.images,
                 when + "a folder (recursive) or a text file of paths, the same images for all");
  add_arch(sub, in.arch, in.transform_input);
  add_preprocess_flags(sub, in.preprocess);
  sub.add_option("--layers", in.layers, when + "L1,L2,... module names, or all (default: all)")
      ->capture_default_str();
  sub.add_option("--kernel", kernel, when + "CKA kernel: linear | rbf")
      ->capture_default_str()
      ->check(names("kernel", {"linear", "rbf"}, "see --help"));
  sub.add_option("--rbf-threshold", in.cka.rbf_threshold,
                 when + "RBF bandwidth: sigma = this x the median distance in a minibatch")
      ->capture_default_str()
      ->check(at_least(1e-6));
  sub.add_flag("--unbiased", in.cka.unbiased,
               when + "the unbiased HSIC estimator (Song et al.; minibatches of 4 or more)");
  add_batch(sub, in.batch, when + "images per minibatch of the estimator", 2);
  sub.add_option("--limit", in.limit, when + "only the first N images of the sorted list")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  add_threads(sub, in.threads);
}

}  // namespace cnnscope::cli
