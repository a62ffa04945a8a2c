// run_scan, run_merge and scan.json (see scan.h). Images are decoded by worker threads
// (common/parallel.h) one batch ahead of the forward pass, so decoding overlaps the network;
// consecutive images of one size run together. Memory is bounded by one batch and the per-channel
// accumulators, whatever the number of images. Spec: the `scan` and `merge` sections of
// docs/DESIGN.md.
#include "app/scan.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "app/image_list.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "common/parallel.h"
#include "export/html_report.h"
#include "image/input.h"
#include "models/network.h"
#include "render/top_patches.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr int64_t kMaxBatch = 1024;
constexpr int64_t kMaxTopk = 1000;
constexpr const char* kFormat = "cnnscope-scan";
constexpr int kVersion = 1;

void check_options(const ScanOptions& o) {
  if (o.topk < 1 || o.topk > kMaxTopk)
    fail("", "--topk must be 1.." + std::to_string(kMaxTopk) + ", got " + std::to_string(o.topk));
  if (o.batch < 1 || o.batch > kMaxBatch)
    fail("",
         "--batch must be 1.." + std::to_string(kMaxBatch) + ", got " + std::to_string(o.batch));
  if (o.threads < 0)
    fail("", "--threads must be 0 (default) or more, got " + std::to_string(o.threads));
  parse_shard(o.shard);
}

std::string fnv1a_hex(const std::vector<std::string>& keys) {
  uint64_t h = 1469598103934665603ull;
  for (const std::string& k : keys) {
    for (unsigned char ch : k + '\n') {
      h ^= ch;
      h *= 1099511628211ull;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// A decoded image of the batch, or why it could not be read.
struct Decoded {
  int64_t index = 0;  // in the sorted list
  at::Tensor input;   // [3, H, W]; undefined when skipped
  std::string error;
};

std::vector<Decoded> decode(const std::vector<ScanImage>& list, const std::vector<int64_t>& picks,
                            const PreprocessOptions& pre) {
  std::vector<Decoded> out(picks.size());
  for_each_parallel(picks.size(), [&](size_t i) {
    out[i].index = picks[i];
    try {
      out[i].input = load_input(list[static_cast<size_t>(picks[i])].path, pre);
    } catch (const Error& e) {
      out[i].error = e.what();
    }
  });
  return out;
}

struct Accumulator {
  const models::Network& net;
  const std::vector<std::string>& layer_names;
  const std::vector<ScanImage>& list;
  ScanResult& result;
  const std::vector<std::string>& taps;  // layer_names and the BatchNorm layers' inputs

  // Runs `inputs` (same size) and adds what the taps show.
  void add(const std::vector<at::Tensor>& inputs, const std::vector<int64_t>& indices,
           const std::string& checkpoint) {
    const models::ForwardResult forward = net.run(at::stack(inputs), taps);  // [B,3,H,W]
    for (size_t l = 0; l < layer_names.size(); ++l) {
      const at::Tensor* maps = forward.find(layer_names[l]);  // [B, C, H, W]
      if (!maps->defined())
        fail(checkpoint,
             "layer " + layer_names[l] + " never runs in " + net.info().arch + "'s forward",
             "pick another layer (cnnscope summary lists them)");
      if (maps->dim() != 4)
        fail(checkpoint,
             "layer " + layer_names[l] + " outputs " + std::to_string(maps->dim()) +
                 "-d tensors, not feature maps [N, C, H, W]",
             "pick a convolutional layer (cnnscope summary lists them)");
      ScanLayer& layer = result.layers[l];
      if (layer.channels.empty()) {
        layer.shape = {maps->size(1), maps->size(2), maps->size(3)};
        layer.channels.resize(static_cast<size_t>(maps->size(1)));
        layer.top.assign(static_cast<size_t>(maps->size(1)), TopK(result.topk));
      }
      const at::Tensor values = maps->to(at::kDouble);  // [B, C, H, W], converted once
      const std::vector<ChannelMoments> batch = channel_moments(values);
      for (size_t c = 0; c < batch.size(); ++c) merge_moments(layer.channels[c], batch[c]);
      if (layer.batchnorm) {
        const at::Tensor* input = forward.find(layer.batchnorm->input);  // [B, C, H, W]
        const std::vector<ChannelMoments> seen = channel_moments(*input);
        std::vector<ChannelMoments>& observed = layer.batchnorm->observed;
        if (observed.empty()) observed.resize(seen.size());
        for (size_t c = 0; c < seen.size() && c < observed.size(); ++c)
          merge_moments(observed[c], seen[c]);
      }
      offer_spatial_maxima(*maps, indices, layer.top);
      const at::Tensor sums = values.sum({2, 3});  // [B, C]
      const int64_t positions = maps->size(2) * maps->size(3);
      for (size_t b = 0; b < indices.size(); ++b) {
        const std::string& label = list[static_cast<size_t>(indices[b])].label;
        if (label.empty()) continue;
        ScanClass& cls = result.classes[label];
        std::vector<double>& acc = cls.sums[layer.name];
        if (acc.empty()) acc.assign(batch.size(), 0.0);
        const at::Tensor image_sums = sums[static_cast<int64_t>(b)];  // [C]
        const auto row = image_sums.accessor<double, 1>();
        for (size_t c = 0; c < acc.size(); ++c) acc[c] += row[static_cast<int64_t>(c)];
        cls.positions[layer.name] += positions;
      }
    }
    for (int64_t i : indices) {
      const std::string& label = list[static_cast<size_t>(i)].label;
      if (!label.empty()) ++result.classes[label].images;
    }
    result.scanned += static_cast<int64_t>(indices.size());
  }
};

Json number(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

double read_double(const Json& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

// The BatchNorm check of `layer` when it is a BatchNorm2d whose input is the output of the leaf
// tap right before it in the same parent module; nullopt otherwise.
std::optional<ScanBatchNorm> batchnorm_check(const models::Network& net, const StateDict& sd,
                                             const std::string& layer) {
  const std::vector<models::TapInfo>& taps = net.taps();
  for (size_t t = 1; t < taps.size(); ++t) {
    if (taps[t].name != layer) continue;
    const models::TapInfo& prev = taps[t - 1];
    const auto parent = [](const std::string& name) {
      const size_t dot = name.rfind('.');
      return dot == std::string::npos ? std::string() : name.substr(0, dot);
    };
    const at::Tensor* mean = sd.find(layer + ".running_mean");  // [C]
    const at::Tensor* var = sd.find(layer + ".running_var");    // [C]
    if (taps[t].type != "BatchNorm2d" || !prev.leaf || parent(prev.name) != parent(layer) ||
        !mean || !var)
      return std::nullopt;
    ScanBatchNorm bn;
    bn.input = prev.name;
    const size_t at = taps[t].repr.find("eps=");
    if (at != std::string::npos) bn.eps = std::strtod(taps[t].repr.c_str() + at + 4, nullptr);
    const at::Tensor m = mean->to(at::kDouble).contiguous(), v = var->to(at::kDouble).contiguous();
    bn.running_mean.assign(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
    bn.running_var.assign(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
    return bn;
  }
  return std::nullopt;
}

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

void collect_hit_images(ScanResult& r, const std::vector<ScanImage>& list) {
  for (const ScanLayer& layer : r.layers)
    for (const TopK& top : layer.top)
      for (const TopHit& hit : top.hits())
        r.hit_images[hit.image] = list[static_cast<size_t>(hit.image)].path;
}

// Cuts each top hit's patch out of its image (decoded again, by worker threads, one image at a
// time) and draws the layer's mosaic, channels ordered by their max.
void draw_mosaic(ScanLayer& layer, const std::vector<ScanImage>& list, const PreprocessOptions& pre,
                 const std::string& out) {
  const size_t channels = layer.channels.size();
  std::map<int64_t, std::vector<std::pair<size_t, size_t>>> uses;  // image -> (channel, hit)
  std::vector<std::vector<at::Tensor>> cut(channels);              // each [h, w, 3] uint8
  std::vector<std::vector<std::array<int64_t, 4>>> where(channels);
  for (size_t c = 0; c < channels; ++c) {
    const std::vector<TopHit>& hits = layer.top[c].hits();
    cut[c].resize(hits.size());
    where[c].resize(hits.size());
    for (size_t j = 0; j < hits.size(); ++j) uses[hits[j].image].push_back({c, j});
  }
  const std::vector<std::pair<int64_t, std::vector<std::pair<size_t, size_t>>>> jobs(uses.begin(),
                                                                                     uses.end());
  for_each_parallel(jobs.size(), [&](size_t i) {
    at::Tensor picture;  // [H, W, 3] uint8
    try {
      picture = load_input_with_picture(list[static_cast<size_t>(jobs[i].first)].path, pre).picture;
    } catch (const Error&) {
      return;  // changed since the scan: no patch
    }
    for (const auto& [c, j] : jobs[i].second) {
      const TopHit& hit = layer.top[c].hits()[j];
      const std::array<int64_t, 4> box =
          layer.field->patch(hit.y, hit.x, picture.size(0), picture.size(1));
      where[c][j] = box;
      cut[c][j] = picture.slice(0, box[0], box[2]).slice(1, box[1], box[3]);
    }
  });
  std::vector<size_t> order(channels);
  for (size_t c = 0; c < channels; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return layer.channels[a].max > layer.channels[b].max;
  });
  std::vector<PatchRow> rows;
  for (size_t c : order) {
    PatchRow row{static_cast<int64_t>(c), {}};
    const std::vector<TopHit>& hits = layer.top[c].hits();
    for (size_t j = 0; j < hits.size(); ++j) {
      if (!cut[c][j].defined()) continue;
      row.patches.push_back(cut[c][j]);
      layer.patches[{hits[j].image, hits[j].y, hits[j].x}] = where[c][j];
    }
    rows.push_back(std::move(row));
  }
  const int64_t columns = layer.top.empty() ? 0 : layer.top.front().k();
  layer.mosaic = (fs::path(out) / (layer.name + "_top.png")).string();
  write_file_atomic(layer.mosaic,
                    render_top_patches(rows, columns, layer.name + ": top patches per channel"));
}

void write_scan(ScanResult& r, const std::string& out) {
  make_output_dir(out);
  r.json = scan_json(r);
  write_file_atomic((fs::path(out) / "scan.json").string(), r.json + "\n");
}

}  // namespace

std::vector<ScanImage> list_scan_images(const std::string& source) {
  std::vector<ScanImage> out;
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    const fs::path root(source);
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file() || !is_input_file(it->path().string())) continue;
      const fs::path rel = it->path().lexically_relative(root);
      const std::string label =
          std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : "";
      out.push_back({it->path().string(), label});
    }
    if (ec) fail(source, "cannot list the folder: " + ec.message());
  } else {
    require_regular_file(source);
    std::ifstream in(source);
    if (!in) fail(source, "cannot read the image list", "give a folder or a text file of paths");
    const fs::path base = fs::path(source).parent_path();
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
        line.pop_back();
      size_t start = 0;
      while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
      line = line.substr(start);
      if (line.empty() || line[0] == '#') continue;
      const fs::path p(line);
      out.push_back({(p.is_absolute() ? p : base / p).lexically_normal().string(), ""});
    }
  }
  if (out.empty())
    fail(source, "holds no image", "JPEG, PNG, BMP, GIF, WebP, TIFF or .npy files are read");
  std::sort(out.begin(), out.end(),
            [](const ScanImage& a, const ScanImage& b) { return a.path < b.path; });
  return out;
}

ScanShard parse_shard(const std::string& text) {
  ScanShard s;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> s.index >> slash >> s.count) || slash != '/' || in.peek() != EOF || s.count < 1 ||
      s.index < 1 || s.index > s.count)
    fail("", "--shard must be I/N with 1 <= I <= N, got '" + text + "'",
         "e.g. --shard 2/8 for the second of 8 shards");
  return s;
}

ScanResult run_scan(const ScanOptions& o, const StepFn& on_step) {
  check_options(o);
  const ScanShard shard = parse_shard(o.shard);
  register_input(o.checkpoint);
  if (!fs::is_directory(o.images)) register_input(o.images);
  const std::vector<ScanImage> list = list_scan_images(o.images);
  const StateDict sd = load_state_dict(o.checkpoint);
  const models::Network net = models::build_network(sd, {o.arch, o.transform_input});
  if (o.threads > 0) at::set_num_threads(static_cast<int>(o.threads));

  ScanResult r;
  r.checkpoint = o.checkpoint;
  std::error_code ec;
  r.checkpoint_bytes = static_cast<int64_t>(fs::file_size(o.checkpoint, ec));
  r.arch = net.info().arch;
  const PreprocessOptions pre = resolve_preprocess(o.preprocess, net.info().default_preset);
  r.preset = pre.name;
  r.topk = o.topk;
  r.shard_count = shard.count;
  r.shards = {shard.index};
  r.listed = static_cast<int64_t>(list.size());
  {
    // paths relative to the folder or the list's folder: the same plan hashes alike anywhere
    const fs::path root =
        fs::is_directory(o.images) ? fs::path(o.images) : fs::path(o.images).parent_path();
    std::vector<std::string> keys;
    for (const ScanImage& image : list) {
      const std::string rel =
          root.empty() ? "" : fs::path(image.path).lexically_relative(root).string();
      keys.push_back(rel.empty() ? image.path : rel);
    }
    r.list_hash = fnv1a_hex(keys);
  }
  const std::vector<std::string> layer_names = net.select_layers(o.layers);
  for (const std::string& name : layer_names) {
    ScanLayer layer;
    layer.name = name;
    layer.field = models::receptive_field(net, name);
    layer.batchnorm = batchnorm_check(net, sd, name);
    r.layers.push_back(std::move(layer));
  }
  std::vector<std::string> taps = layer_names;
  for (const ScanLayer& layer : r.layers)
    if (layer.batchnorm) taps.push_back(layer.batchnorm->input);
  AtomicDir out_dir(o.out);  // a failure midway leaves o.out as it was

  std::vector<int64_t> picks;  // this shard's images, as list indices
  for (int64_t i = shard.index - 1; i < r.listed; i += shard.count) picks.push_back(i);
  r.selected = static_cast<int64_t>(picks.size());

  Accumulator acc{net, layer_names, list, r, taps};
  const auto batch_of = [&](size_t b) {
    const size_t begin = b * static_cast<size_t>(o.batch);
    const size_t end = std::min(picks.size(), begin + static_cast<size_t>(o.batch));
    return std::vector<int64_t>(picks.begin() + static_cast<std::ptrdiff_t>(begin),
                                picks.begin() + static_cast<std::ptrdiff_t>(end));
  };
  const size_t batches =
      (picks.size() + static_cast<size_t>(o.batch) - 1) / static_cast<size_t>(o.batch);
  std::future<std::vector<Decoded>> next;
  if (batches > 0) next = std::async(std::launch::async, decode, std::cref(list), batch_of(0), pre);
  for (size_t b = 0; b < batches; ++b) {
    std::vector<Decoded> decoded = next.get();
    if (b + 1 < batches)
      next = std::async(std::launch::async, decode, std::cref(list), batch_of(b + 1), pre);
    std::vector<at::Tensor> inputs;  // each [3, H, W], one size
    std::vector<int64_t> indices;
    const auto flush = [&] {
      if (!inputs.empty()) acc.add(inputs, indices, o.checkpoint);
      inputs.clear();
      indices.clear();
    };
    for (Decoded& d : decoded) {
      const std::string& path = list[static_cast<size_t>(d.index)].path;
      if (!d.input.defined()) {
        r.skipped.push_back({path, d.error});
      } else {
        if (!inputs.empty() && inputs.front().sizes() != d.input.sizes()) flush();
        inputs.push_back(std::move(d.input));
        indices.push_back(d.index);
      }
      if (on_step) on_step(r.selected, path);
    }
    flush();
  }
  collect_hit_images(r, list);
  for (ScanLayer& layer : r.layers) {
    if (!layer.field || layer.channels.empty()) continue;
    draw_mosaic(layer, list, pre, out_dir.staging());
    layer.mosaic = out_dir.final_path(layer.mosaic);  // as scan.json names it
  }
  write_scan(r, out_dir.staging());
  out_dir.commit();
  return r;
}

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
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read", "give a folder that `cnnscope scan --out` wrote");
  Json doc;
  try {
    doc = Json::parse(in);
    if (doc.value("format", "") != kFormat || doc.value("version", 0) != kVersion)
      fail(path, "not a cnnscope scan.json (format " + std::string(kFormat) + " version " +
                     std::to_string(kVersion) + ")");
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
    fail(path, std::string("malformed scan.json: ") + e.what(),
         "give a folder that `cnnscope scan --out` wrote");
  }
}

std::string scan_report_html(const ScanResult& r, const std::string& dir) {
  std::string out = "<p>" + html_escape(r.arch) + ", preset " + html_escape(r.preset) + ": " +
                    std::to_string(r.scanned) + " of " + std::to_string(r.listed) +
                    " images scanned (" + std::to_string(r.skipped.size()) + " skipped; shards " +
                    std::to_string(r.shards.size()) + " of " + std::to_string(r.shard_count) +
                    "), top " + std::to_string(r.topk) + " per channel.</p>";
  const auto num = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return std::string(text);
  };
  for (const ScanLayer& layer : r.layers) {
    int64_t dead = 0, on = 0;
    for (const ChannelMoments& m : layer.channels) {
      dead += m.dead();
      on += m.always_on();
    }
    out += "<h3>" + html_escape(layer.name) + "</h3><p>" + std::to_string(layer.channels.size()) +
           " channels, " + std::to_string(dead) + " dead, " + std::to_string(on) +
           " always on.</p>";
    if (layer.batchnorm) {
      double shift = 0, lo = std::numeric_limits<double>::infinity(), hi = 0;
      const ScanBatchNorm& bn = *layer.batchnorm;
      for (size_t c = 0; c < bn.observed.size() && c < bn.running_mean.size(); ++c) {
        const ChannelMoments& m = bn.observed[c];
        const double sd = std::sqrt(bn.running_var[c] + bn.eps);
        shift = std::max(shift, std::abs(m.mean - bn.running_mean[c]) / sd);
        const double var = m.count > 1 ? m.m2 / static_cast<double>(m.count - 1) : 0.0;
        lo = std::min(lo, var / (sd * sd));
        hi = std::max(hi, var / (sd * sd));
      }
      out += "<p>BatchNorm against its input (" + html_escape(bn.input) +
             "): largest |mean shift| " + num(shift) + " running std, variance ratio " + num(lo) +
             " .. " + num(hi) + ".</p>";
    }
    if (!layer.mosaic.empty()) {
      const fs::path mosaic = fs::path(dir) / fs::path(layer.mosaic).filename();
      std::ifstream in(mosaic, std::ios::binary);
      if (in)
        out += html_figure({layer.name + ": top patches per channel", "image/png",
                            std::string(std::istreambuf_iterator<char>(in), {})});
    }
    out +=
        "<table><thead><tr><th>channel</th><th>mean</th><th>std</th><th>min</th><th>max</th>"
        "<th>positive</th><th>state</th><th>strongest image</th></tr></thead><tbody>";
    for (size_t c = 0; c < layer.channels.size(); ++c) {
      const ChannelMoments& m = layer.channels[c];
      const std::vector<TopHit>& hits = layer.top[c].hits();
      const std::string best =
          hits.empty() ? ""
                       : html_escape(fs::path(r.hit_images.at(hits[0].image)).filename().string()) +
                             " (" + num(hits[0].value) + ")";
      out += "<tr><td>" + std::to_string(c) + "</td><td>" + num(m.mean) + "</td><td>" +
             num(m.std()) + "</td><td>" + num(m.min) + "</td><td>" + num(m.max) + "</td><td>" +
             num(100 * m.positive_fraction()) + "%</td><td>" +
             (m.dead()        ? "dead"
              : m.always_on() ? "always on"
                              : "") +
             "</td><td>" + best + "</td></tr>";
    }
    out += "</tbody></table>";
  }
  if (!r.classes.empty()) {
    out += "<h3>Classes</h3><table><thead><tr><th>class</th><th>images</th></tr></thead><tbody>";
    for (const auto& [name, cls] : r.classes)
      out +=
          "<tr><td>" + html_escape(name) + "</td><td>" + std::to_string(cls.images) + "</td></tr>";
    out += "</tbody></table>";
  }
  return out;
}

namespace {

void check_same(const std::string& file, const std::string& what, const std::string& want,
                const std::string& got) {
  if (want != got)
    fail(file, what + " differs: " + got + " here, " + want + " in the first",
         "merge only the shards of one scan plan (same checkpoint, layers, preset, --topk, images "
         "and --shard N)");
}

}  // namespace

ScanResult run_merge(const MergeOptions& o) {
  if (o.dirs.empty()) fail("", "merge needs at least one scan folder");
  ScanResult r;
  std::set<int64_t> seen;
  for (size_t d = 0; d < o.dirs.size(); ++d) {
    const std::string file = (fs::path(o.dirs[d]) / "scan.json").string();
    register_input(file);
    ScanResult part = read_scan_json(file);
    if (d == 0) {
      r = part;
      r.hit_images.clear();
    } else {
      check_same(file, "checkpoint",
                 fs::path(r.checkpoint).filename().string() + " (" +
                     std::to_string(r.checkpoint_bytes) + " bytes)",
                 fs::path(part.checkpoint).filename().string() + " (" +
                     std::to_string(part.checkpoint_bytes) + " bytes)");
      check_same(file, "arch", r.arch, part.arch);
      check_same(file, "preset", r.preset, part.preset);
      check_same(file, "topk", std::to_string(r.topk), std::to_string(part.topk));
      check_same(file, "shard plan", "N=" + std::to_string(r.shard_count),
                 "N=" + std::to_string(part.shard_count));
      check_same(file, "image list", std::to_string(r.listed) + " images, hash " + r.list_hash,
                 std::to_string(part.listed) + " images, hash " + part.list_hash);
      std::string want_layers, got_layers;
      for (const ScanLayer& l : r.layers) want_layers += l.name + ",";
      for (const ScanLayer& l : part.layers) got_layers += l.name + ",";
      check_same(file, "layers", want_layers, got_layers);
      for (size_t l = 0; l < r.layers.size(); ++l) {
        ScanLayer& into = r.layers[l];
        const ScanLayer& from = part.layers[l];
        if (into.channels.empty()) {
          into.shape = from.shape;
          into.channels = from.channels;
          into.top = from.top;
          into.batchnorm = from.batchnorm;
          continue;
        }
        if (from.channels.empty()) continue;
        check_same(file, "channels of " + into.name, std::to_string(into.channels.size()),
                   std::to_string(from.channels.size()));
        for (size_t c = 0; c < into.channels.size(); ++c) {
          merge_moments(into.channels[c], from.channels[c]);
          into.top[c].merge(from.top[c]);
        }
        into.patches.insert(from.patches.begin(), from.patches.end());
        if (into.batchnorm && from.batchnorm &&
            into.batchnorm->observed.size() == from.batchnorm->observed.size())
          for (size_t c = 0; c < into.batchnorm->observed.size(); ++c)
            merge_moments(into.batchnorm->observed[c], from.batchnorm->observed[c]);
      }
      r.shards.insert(r.shards.end(), part.shards.begin(), part.shards.end());
      r.selected += part.selected;
      r.scanned += part.scanned;
      r.skipped.insert(r.skipped.end(), part.skipped.begin(), part.skipped.end());
      for (auto& [name, cls] : part.classes) {
        ScanClass& into = r.classes[name];
        into.images += cls.images;
        for (auto& [layer, sums] : cls.sums) {
          into.positions[layer] += cls.positions[layer];
          std::vector<double>& acc = into.sums[layer];
          if (acc.empty()) acc.assign(sums.size(), 0.0);
          if (acc.size() != sums.size())
            fail(file, "class " + name + " has " + std::to_string(sums.size()) +
                           " channel sums for " + layer + ", the first " +
                           std::to_string(acc.size()));
          for (size_t c = 0; c < acc.size(); ++c) acc[c] += sums[c];
        }
      }
    }
    for (int64_t s : part.shards)
      if (!seen.insert(s).second)
        fail(file,
             "shard " + std::to_string(s) + "/" + std::to_string(part.shard_count) +
                 " is merged twice",
             "give each shard's folder once");
    for (const auto& [index, image] : part.hit_images) r.hit_images[index] = image;
  }
  std::sort(r.shards.begin(), r.shards.end());
  std::sort(r.skipped.begin(), r.skipped.end(),
            [](const SkippedImage& a, const SkippedImage& b) { return a.image < b.image; });
  std::map<int64_t, std::string> used;  // only the images still in a top list
  for (const ScanLayer& layer : r.layers)
    for (const TopK& top : layer.top)
      for (const TopHit& hit : top.hits()) used[hit.image] = r.hit_images.at(hit.image);
  r.hit_images = std::move(used);
  for (ScanLayer& layer : r.layers) layer.mosaic.clear();  // the shards' figures, not this one
  write_scan(r, o.out);
  return r;
}

}  // namespace cnnscope::app
