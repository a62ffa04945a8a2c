// scan.json written and read back (see scan_json.h). Doubles are written with 17 digits so that a
// read gives the same values; non-finite min/max are written as null. Spec: the `scan` section of
// docs/DESIGN.md (scan.json).
#include "app/scan_json.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "app/job_document.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kFormat = "cnnscope-scan";
constexpr int kVersion = 1;

Json number(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

double read_double(const Json& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

// The BatchNorm check of `layer` when it is a BatchNorm2d whose input is the output of the leaf
Json batchnorm_json(const ScanBatchNorm& bn) {
  Json channels = Json::array();
  double max_shift = 0, min_ratio = std::numeric_limits<double>::infinity(), max_ratio = 0;
  for (size_t c = 0; c < bn.observed.size() && c < bn.running_mean.size(); ++c) {
    const ChannelMoments& m = bn.observed[c];
    const double var = m.count > 1 ? m.m2 / static_cast<double>(m.count - 1) : 0.0;
    const double shift = (m.mean - bn.running_mean[c]) / std::sqrt(bn.running_var[c] + bn.eps);
    const double ratio = var / (bn.running_var[c] + bn.eps);
    max_shift = std::max(max_shift, std::abs(shift));
    min_ratio = std::min(min_ratio, ratio);
    max_ratio = std::max(max_ratio, ratio);
    channels.push_back({{"index", c},
                        {"running_mean", bn.running_mean[c]},
                        {"running_var", bn.running_var[c]},
                        {"observed_mean", m.mean},
                        {"observed_var", var},
                        {"mean_shift", shift},
                        {"var_ratio", ratio},
                        {"count", m.count},
                        {"m2", m.m2}});
  }
  return {{"input", bn.input},
          {"eps", bn.eps},
          {"max_abs_mean_shift", max_shift},
          {"min_var_ratio", number(min_ratio)},
          {"max_var_ratio", max_ratio},
          {"channels", std::move(channels)}};
}

ScanBatchNorm read_batchnorm(const Json& j) {
  ScanBatchNorm bn;
  bn.input = j.at("input").get<std::string>();
  bn.eps = j.at("eps").get<double>();
  for (const Json& c : j.at("channels")) {
    bn.running_mean.push_back(c.at("running_mean").get<double>());
    bn.running_var.push_back(c.at("running_var").get<double>());
    ChannelMoments m;
    m.count = c.at("count").get<int64_t>();
    m.mean = c.at("observed_mean").get<double>();
    m.m2 = c.at("m2").get<double>();
    bn.observed.push_back(m);
  }
  return bn;
}

}  // namespace

std::string scan_json(const ScanResult& r) {
  Json skipped = Json::array();
  for (const SkippedImage& s : r.skipped)
    skipped.push_back({{"image", s.image}, {"error", s.error}});
  Json layers = Json::array();
  for (const ScanLayer& layer : r.layers) {
    Json channels = Json::array();
    for (size_t c = 0; c < layer.channels.size(); ++c) {
      const ChannelMoments& m = layer.channels[c];
      Json top = Json::array();
      for (const TopHit& hit : layer.top[c].hits()) {
        Json entry{{"image", r.hit_images.at(hit.image)},
                   {"image_index", hit.image},
                   {"value", hit.value},
                   {"y", hit.y},
                   {"x", hit.x}};
        const auto patch = layer.patches.find({hit.image, hit.y, hit.x});
        entry["patch"] = patch == layer.patches.end() ? Json(nullptr) : Json(patch->second);
        top.push_back(std::move(entry));
      }
      channels.push_back({{"index", c},
                          {"count", m.count},
                          {"mean", m.mean},
                          {"std", m.std()},
                          {"min", number(m.min)},
                          {"max", number(m.max)},
                          {"positive_fraction", m.positive_fraction()},
                          {"dead", m.dead()},
                          {"always_on", m.always_on()},
                          {"m2", m.m2},
                          {"positive", m.positive},
                          {"top", std::move(top)}});
    }
    Json field = nullptr;
    if (layer.field)
      field = {{"size", layer.field->size},
               {"jump", layer.field->jump},
               {"padding", layer.field->padding}};
    layers.push_back(
        {{"name", layer.name},
         {"shape", layer.shape},
         {"receptive_field", std::move(field)},
         {"mosaic", layer.mosaic.empty() ? Json(nullptr) : Json(layer.mosaic)},
         {"batchnorm", layer.batchnorm ? batchnorm_json(*layer.batchnorm) : Json(nullptr)},
         {"dead", std::count_if(layer.channels.begin(), layer.channels.end(),
                                [](const ChannelMoments& m) { return m.dead(); })},
         {"always_on", std::count_if(layer.channels.begin(), layer.channels.end(),
                                     [](const ChannelMoments& m) { return m.always_on(); })},
         {"channels", std::move(channels)}});
  }
  Json classes = Json::object();
  for (const auto& [name, cls] : r.classes) {
    Json per_layer = Json::object();
    for (const auto& [layer, sums] : cls.sums) {
      const int64_t positions = cls.positions.at(layer);
      std::vector<double> means;
      for (double s : sums) means.push_back(s / static_cast<double>(positions));
      per_layer[layer] = {{"positions", positions}, {"mean", means}, {"sum", sums}};
    }
    classes[name] = {{"images", cls.images}, {"layers", std::move(per_layer)}};
  }
  const Json doc{{"format", kFormat},
                 {"version", kVersion},
                 {"checkpoint", r.checkpoint},
                 {"checkpoint_bytes", r.checkpoint_bytes},
                 {"arch", r.arch},
                 {"preset", r.preset},
                 {"topk", r.topk},
                 {"shard", {{"count", r.shard_count}, {"indices", r.shards}}},
                 {"images",
                  {{"listed", r.listed},
                   {"list_hash", r.list_hash},
                   {"selected", r.selected},
                   {"scanned", r.scanned},
                   {"skipped", r.skipped.size()},
                   {"skipped_files", std::move(skipped)}}},
                 {"layers", std::move(layers)},
                 {"classes", std::move(classes)}};
  return doc.dump();
}

ScanResult read_scan_json(const std::string& path) {
  const Json doc = read_job_document(
      path,
      {kFormat, kVersion, "scan.json", "give a folder that a scan wrote", uintmax_t{256} << 20});
  try {
    ScanResult r;
    r.checkpoint = doc.at("checkpoint").get<std::string>();
    r.checkpoint_bytes = doc.at("checkpoint_bytes").get<int64_t>();
    r.arch = doc.at("arch").get<std::string>();
    r.preset = doc.at("preset").get<std::string>();
    r.topk = doc.at("topk").get<int64_t>();
    r.shard_count = doc.at("shard").at("count").get<int64_t>();
    r.shards = doc.at("shard").at("indices").get<std::vector<int64_t>>();
    const Json& images = doc.at("images");
    r.listed = images.at("listed").get<int64_t>();
    r.list_hash = images.at("list_hash").get<std::string>();
    r.selected = images.at("selected").get<int64_t>();
    r.scanned = images.at("scanned").get<int64_t>();
    for (const Json& s : images.at("skipped_files"))
      r.skipped.push_back({s.at("image").get<std::string>(), s.at("error").get<std::string>()});
    for (const Json& l : doc.at("layers")) {
      ScanLayer layer;
      layer.name = l.at("name").get<std::string>();
      layer.shape = l.at("shape").get<std::vector<int64_t>>();
      if (const Json& f = l.at("receptive_field"); !f.is_null())
        layer.field = models::ReceptiveField{f.at("size").get<std::array<int64_t, 2>>(),
                                             f.at("jump").get<std::array<int64_t, 2>>(),
                                             f.at("padding").get<std::array<int64_t, 2>>()};
      if (const Json& m = l.at("mosaic"); !m.is_null()) layer.mosaic = m.get<std::string>();
      if (const Json& b = l.at("batchnorm"); !b.is_null()) layer.batchnorm = read_batchnorm(b);
      for (const Json& c : l.at("channels")) {
        ChannelMoments m;
        m.count = c.at("count").get<int64_t>();
        m.mean = c.at("mean").get<double>();
        m.m2 = c.at("m2").get<double>();
        if (m.count > 0) {
          m.min = read_double(c.at("min"));
          m.max = read_double(c.at("max"));
        }
        m.positive = c.at("positive").get<int64_t>();
        layer.channels.push_back(m);
        TopK top(r.topk);
        for (const Json& h : c.at("top")) {
          const TopHit hit{h.at("value").get<double>(), h.at("image_index").get<int64_t>(),
                           h.at("y").get<int64_t>(), h.at("x").get<int64_t>()};
          top.offer(hit);
          if (const Json& p = h.at("patch"); !p.is_null())
            layer.patches[{hit.image, hit.y, hit.x}] = p.get<std::array<int64_t, 4>>();
          r.hit_images[hit.image] = h.at("image").get<std::string>();
        }
        layer.top.push_back(std::move(top));
      }
      r.layers.push_back(std::move(layer));
    }
    for (const auto& [name, c] : doc.at("classes").items()) {
      ScanClass cls;
      cls.images = c.at("images").get<int64_t>();
      for (const auto& [layer, v] : c.at("layers").items()) {
        cls.positions[layer] = v.at("positions").get<int64_t>();
        cls.sums[layer] = v.at("sum").get<std::vector<double>>();
      }
      r.classes[name] = std::move(cls);
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed scan.json: ") + e.what(), "give a folder that a scan wrote");
  }
}

void write_scan_json(ScanResult& r, const std::string& out) {
  make_output_dir(out);
  r.json = scan_json(r);
  write_file_atomic((fs::path(out) / "scan.json").string(), r.json + "\n");
}

}  // namespace cnnscope::app
