// run_similarity and series_similarity (see similarity.h): each minibatch of images runs through
// every network once with its chosen layers tapped; each layer's output becomes one prepared Gram
// matrix (stats/cka.h) and every pair of layers adds its HSIC terms. A run of one image size
// smaller than the estimator's minimum is left out and counted. Spec: the `similarity` section of
// docs/DESIGN.md.
#include "app/similarity.h"

#include <ATen/Parallel.h>

#include <filesystem>

#include "app/feature_maps.h"
#include "app/image_stream.h"
#include "app/network_input.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "models/network.h"
#include "render/canvas.h"
#include "render/matrix_plot.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

// The CLI checks the same bounds as it parses (cli/flags.h); these guard other callers.
void check_inputs(const SimilarityInputs& in) {
  if (in.batch < cka_min_batch(in.cka))
    fail("", "the " + std::string(in.cka.unbiased ? "unbiased" : "biased") +
                 " CKA estimator needs minibatches of at least " +
                 std::to_string(cka_min_batch(in.cka)) + " images, got a batch size of " +
                 std::to_string(in.batch));
  if (in.threads < 0)
    fail("", "the thread count must be 0 (default) or more, got " + std::to_string(in.threads));
  if (in.limit < 0) fail("", "the image limit must be 0 (all) or more");
  if (!(in.cka.rbf_threshold > 0))
    fail("", "the RBF bandwidth threshold must be positive, got " +
                 std::to_string(in.cka.rbf_threshold));
}

// No minibatch reached the estimator: says why, with the first skipped image's reason.
[[noreturn]] void fail_no_minibatch(const std::string& images, const CkaOptions& cka,
                                    const std::vector<SkippedImage>& skipped) {
  std::string what = "no minibatch of at least " + std::to_string(cka_min_batch(cka)) +
                     " readable images of one size";
  if (!skipped.empty())
    what += "; " + std::to_string(skipped.size()) + " skipped, the first: " + skipped[0].error;
  fail(images, what, "the estimate needs them");
}

std::vector<ScanImage> listed_images(const SimilarityInputs& in) {
  std::vector<ScanImage> list = list_scan_images(in.images);
  if (in.limit > 0 && static_cast<int64_t>(list.size()) > in.limit)
    list.resize(static_cast<size_t>(in.limit));
  return list;
}

std::vector<int64_t> all_of(const std::vector<ScanImage>& list) {
  std::vector<int64_t> picks(list.size());
  for (size_t i = 0; i < picks.size(); ++i) picks[i] = static_cast<int64_t>(i);
  return picks;
}

// One network of the comparison: its file, its layers and how its inputs are made.
struct Side {
  std::string file;
  models::Network net;
  std::vector<std::string> layers;
  PreprocessOptions pre;
};

Side open_side(const std::string& file, const SimilarityInputs& in,
               const std::vector<std::string>* layers = nullptr) {
  register_input(file);
  const StateDict sd = load_state_dict(file);
  models::Network net = models::build_network(sd, {in.arch, in.transform_input});
  std::vector<std::string> chosen;
  try {
    chosen = layers ? *layers : net.select_layers(in.layers);
  } catch (const Error& e) {  // which of the two networks lacks the layer
    fail(file, e.what(), "", e.settings());
  }
  PreprocessOptions pre = network_preprocess(in.preprocess, net.info());
  return {file, std::move(net), std::move(chosen), std::move(pre)};
}

// One prepared Gram matrix per layer of `side` for the minibatch `input` [B, C, H, W]; a layer the
// network does not have (a series' checkpoint of another shape) gets an empty one (n = 0).
std::vector<CkaGram> layer_grams(const Side& side, const at::Tensor& input, const CkaOptions& cka) {
  std::vector<std::string> present;
  for (const std::string& layer : side.layers) {
    const auto& taps = side.net.taps();
    if (std::any_of(taps.begin(), taps.end(), [&](const auto& t) { return t.name == layer; }))
      present.push_back(layer);
  }
  const models::ForwardResult forward = side.net.run(input, present);
  std::vector<CkaGram> grams;
  for (const std::string& layer : side.layers) {
    const at::Tensor* output = forward.find(layer);
    if (!output) {
      grams.emplace_back();
      continue;
    }
    feature_maps(*output, layer, side.net.info().arch, side.file);  // the "never runs" check
    grams.push_back(cka_gram(*output, cka));
  }
  return grams;
}

// The same preprocessing, whatever each calls it (a preset and its custom twin).
bool same_pipeline(const PreprocessOptions& a, PreprocessOptions b) {
  b.name = a.name;
  return a == b;
}

void set_threads(int64_t threads) {
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
}

}  // namespace

SimilarityResult run_similarity(const SimilarityOptions& o, const StepFn& on_step) {
  check_inputs(o.inputs);
  const FigureFormat format = parse_figure_format(o.format);
  const std::vector<ScanImage> list = listed_images(o.inputs);
  const Side a = open_side(o.a, o.inputs);
  const std::optional<Side> b =
      o.b.empty() ? std::nullopt : std::optional<Side>(open_side(o.b, o.inputs));
  set_threads(o.inputs.threads);
  const Side& other = b ? *b : a;

  SimilarityResult r;
  r.a = o.a;
  r.b = o.b;
  r.arch_a = a.net.info().arch;
  r.arch_b = other.net.info().arch;
  r.preset_a = a.pre.name;
  r.preset_b = other.pre.name;
  r.cka = o.inputs.cka;
  r.batch = o.inputs.batch;
  r.rows = a.layers;
  r.cols = other.layers;
  if (r.rows.size() > kMaxSimilarityLayers || r.cols.size() > kMaxSimilarityLayers)
    fail(o.a, "more than " + std::to_string(kMaxSimilarityLayers) + " layers to compare",
         "choose fewer layers");
  r.listed = static_cast<int64_t>(list.size());
  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was

  std::vector<PreprocessOptions> pres{a.pre};
  const bool own_inputs = b && !same_pipeline(b->pre, a.pre);  // B decodes them its own way
  if (own_inputs) pres.push_back(b->pre);
  std::vector<std::vector<CkaPair>> pairs(r.rows.size(), std::vector<CkaPair>(r.cols.size()));
  ImageStreamCalls calls;
  calls.batch = [&](const std::vector<at::Tensor>& batches, const std::vector<int64_t>& indices) {
    const auto n = static_cast<int64_t>(indices.size());
    if (n < cka_min_batch(r.cka)) {
      r.left_out += n;
      return;
    }
    const std::vector<CkaGram> ga = layer_grams(a, batches[0], r.cka);
    const std::vector<CkaGram> gb = b ? layer_grams(*b, batches[own_inputs ? 1 : 0], r.cka) : ga;
    for (size_t i = 0; i < r.rows.size(); ++i)
      for (size_t j = b ? 0 : i; j < r.cols.size(); ++j) pairs[i][j].add(ga[i], gb[j]);
    r.used += n;
    ++r.batches;
  };
  calls.skipped = [&](int64_t index, const std::string& error) {
    r.skipped.push_back({list[static_cast<size_t>(index)].path, error});
  };
  calls.step = [&](const std::string& path) {
    if (on_step) on_step(r.listed, path);
  };
  stream_images(list, all_of(list), pres, o.inputs.batch, calls);
  if (r.used == 0) fail_no_minibatch(o.inputs.images, r.cka, r.skipped);

  r.values.assign(r.rows.size(), std::vector<std::optional<double>>(r.cols.size()));
  for (size_t i = 0; i < r.rows.size(); ++i)
    for (size_t j = 0; j < r.cols.size(); ++j)
      r.values[i][j] = b || j >= i ? pairs[i][j].value() : pairs[j][i].value();

  const std::string figure =
      (fs::path(out_dir.staging()) / (std::string("similarity.") + figure_extension(format)))
          .string();
  MatrixPlot plot;
  plot.title = "CKA (" + std::string(cka_kernel_name(r.cka.kernel)) +
               (r.cka.unbiased ? ", unbiased" : "") + "), " + std::to_string(r.used) + " images";
  plot.row_title = fs::path(r.a).filename().string();
  plot.col_title = fs::path(b ? r.b : r.a).filename().string();
  plot.rows = r.rows;
  plot.cols = r.cols;
  plot.values = r.values;
  write_file_atomic(figure, matrix_figure(plot, format));
  r.figure = out_dir.final_path(figure);
  r.json = similarity_json(r).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  write_file_atomic((fs::path(out_dir.staging()) / "similarity.json").string(), r.json + "\n");
  out_dir.commit();
  return r;
}

SeriesSimilarity series_similarity(const std::vector<std::string>& checkpoints,
                                   const SimilarityInputs& inputs, const StepFn& on_step) {
  check_inputs(inputs);
  if (checkpoints.empty()) fail("", "a series of no checkpoints");
  const std::vector<ScanImage> list = listed_images(inputs);
  set_threads(inputs.threads);
  const Side last = open_side(checkpoints.back(), inputs);
  SeriesSimilarity s;
  s.layers = last.layers;
  s.preset = last.pre.name;
  const int64_t total = static_cast<int64_t>(list.size() * checkpoints.size());

  // The last checkpoint's Gram matrices, per minibatch: the reference every other one is held to.
  std::vector<std::vector<CkaGram>> reference;
  std::vector<std::vector<int64_t>> batch_images;  // each kept minibatch's image indices
  ImageStreamCalls calls;
  calls.step = [&](const std::string& path) {
    if (on_step) on_step(total, path);
  };
  calls.skipped = [&](int64_t index, const std::string& error) {
    s.skipped.push_back({list[static_cast<size_t>(index)].path, error});
  };
  calls.batch = [&](const std::vector<at::Tensor>& batches, const std::vector<int64_t>& indices) {
    if (static_cast<int64_t>(indices.size()) < cka_min_batch(inputs.cka)) return;
    reference.push_back(layer_grams(last, batches[0], inputs.cka));
    batch_images.push_back(indices);
    s.used += static_cast<int64_t>(indices.size());
  };
  stream_images(list, all_of(list), {last.pre}, inputs.batch, calls);
  if (s.used == 0) fail_no_minibatch(inputs.images, inputs.cka, s.skipped);

  for (size_t c = 0; c < checkpoints.size(); ++c) {
    std::vector<CkaPair> pairs(s.layers.size());
    if (c + 1 == checkpoints.size()) {
      for (const auto& grams : reference)
        for (size_t l = 0; l < grams.size(); ++l)
          if (grams[l].n > 0) pairs[l].add(grams[l], grams[l]);
    } else {
      const Side side = open_side(checkpoints[c], inputs, &s.layers);
      if (!same_pipeline(side.pre, last.pre))
        fail(checkpoints[c], "its network takes inputs preprocessed as '" + side.pre.name +
                                 "', the last checkpoint's as '" + last.pre.name +
                                 "' (a series compares one network at different times)");
      size_t next = 0;  // the minibatch of `reference` the stream reaches next
      ImageStreamCalls each;
      each.step = calls.step;
      each.batch = [&](const std::vector<at::Tensor>& batches, const std::vector<int64_t>& idx) {
        if (next >= batch_images.size() || idx != batch_images[next]) return;
        const std::vector<CkaGram> grams = layer_grams(side, batches[0], inputs.cka);
        for (size_t l = 0; l < grams.size(); ++l)
          if (grams[l].n > 0 && reference[next][l].n > 0)
            pairs[l].add(grams[l], reference[next][l]);
        ++next;
      };
      stream_images(list, all_of(list), {side.pre}, inputs.batch, each);
    }
    std::vector<std::optional<double>> row;
    for (const CkaPair& pair : pairs) row.push_back(pair.value());
    s.values.push_back(std::move(row));
  }
  return s;
}

}  // namespace cnnscope::app
