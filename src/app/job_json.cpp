// The shared JSON documents (see job_json.h). Spec: the summary, predict, features and diff
// sections of docs/DESIGN.md.
#include "app/job_json.h"

namespace cnnscope::app {
namespace {

nlohmann::ordered_json stats_json(const ValueStats& s) {
  return {{"mean", s.mean},
          {"std", s.std},
          {"min", s.min},
          {"max", s.max},
          {"zero_fraction", s.zero_fraction}};
}

nlohmann::ordered_json path_or_null(const std::string& path) {
  return path.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(path);
}

nlohmann::ordered_json number_or_null(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::json summary_json(const models::ArchInfo& info, const Summary& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const SummaryRow& row : s.rows)
    layers.push_back(
        {{"name", row.tap->name},
         {"type", row.tap->type},
         {"output_shape", row.ran ? nlohmann::json(row.output_shape) : nlohmann::json(nullptr)},
         {"params", row.tap->params},
         {"mult_adds", row.mult_adds}});
  return {{"arch", info.arch},
          {"family", info.family},
          {"layout", info.layout},
          {"description", info.description},
          {"num_classes", info.num_classes},
          {"params", s.params},
          {"mult_adds", s.mult_adds},
          {"input_shape", s.input_shape},
          {"default_preset", info.default_preset},
          {"layers", layers}};
}

namespace {

nlohmann::json predictions_json(const Predictions& p) {
  nlohmann::json top = nlohmann::json::array();
  for (const Prediction& t : p.top)
    top.push_back({{"index", t.index}, {"label", t.label}, {"probability", t.probability}});
  return {{"logits", p.logits}, {"probabilities", p.probabilities}, {"top", top}};
}

}  // namespace

nlohmann::json predict_json(const models::ArchInfo& info, const std::string& preset,
                            const Predictions& p) {
  nlohmann::json doc = predictions_json(p);
  doc["arch"] = info.arch;
  doc["preset"] = preset;
  return doc;
}

nlohmann::json predict_images_json(const models::ArchInfo& info, const std::string& preset,
                                   const std::vector<ImagePredictions>& images) {
  nlohmann::json list = nlohmann::json::array();
  for (const ImagePredictions& i : images) {
    nlohmann::json entry = predictions_json(i.predictions);
    entry["image"] = i.image;
    list.push_back(std::move(entry));
  }
  return {{"arch", info.arch}, {"preset", preset}, {"images", std::move(list)}};
}

nlohmann::ordered_json feature_layer_json(const LayerFeatures& l) {
  nlohmann::ordered_json entry{{"name", l.name}, {"shape", l.stats.shape}};
  entry.update(stats_json(l.stats.layer));
  entry["dead_channels"] = l.dead_channels;
  entry["shown"] = l.shown;
  entry["figure"] = path_or_null(l.figure);
  entry["npy"] = path_or_null(l.npy);
  nlohmann::ordered_json channels = nlohmann::ordered_json::array();
  for (size_t c = 0; c < l.stats.channels.size(); ++c) {
    nlohmann::ordered_json ch{{"index", c}};
    ch.update(stats_json(l.stats.channels[c]));
    channels.push_back(std::move(ch));
  }
  entry["channels"] = std::move(channels);
  return entry;
}

nlohmann::ordered_json features_json(const std::string& checkpoint, const FeaturesOptions& o,
                                     const FeaturesResult& r) {
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  for (const ImageFeatures& image : r.images) {
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const LayerFeatures& l : image.layers) layers.push_back(feature_layer_json(l));
    images.push_back(
        {{"image", image.image}, {"out", path_or_null(image.out)}, {"layers", std::move(layers)}});
  }
  return {{"checkpoint", checkpoint}, {"arch", r.info.arch},
          {"preset", r.preset},       {"layers", r.layers},
          {"cmap", o.cmap},           {"scale", o.scale},
          {"pick", o.pick},           {"images", std::move(images)}};
}

nlohmann::ordered_json diff_json(const DiffResult& r) {
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const DiffEntry& e : r.tensors)
    tensors.push_back({{"name", e.name},
                       {"shape", e.shape},
                       {"l2_a", e.diff.l2_a},
                       {"l2_b", e.diff.l2_b},
                       {"l2_diff", e.diff.l2_diff},
                       {"rel_change", number_or_null(e.diff.rel_change)},
                       {"cosine", number_or_null(e.diff.cosine)},
                       {"max_abs_diff", e.diff.max_abs_diff},
                       {"changed_fraction", e.diff.changed_fraction}});
  nlohmann::ordered_json mismatches = nlohmann::ordered_json::array();
  for (const ShapeMismatch& m : r.shape_mismatch)
    mismatches.push_back({{"name", m.name}, {"a", m.a}, {"b", m.b}});
  return {{"a", r.a},
          {"b", r.b},
          {"tensors", std::move(tensors)},
          {"only_in_a", r.only_in_a},
          {"only_in_b", r.only_in_b},
          {"shape_mismatch", std::move(mismatches)}};
}

}  // namespace cnnscope::app
