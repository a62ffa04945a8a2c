// run_scan (see scan.h): the images of one shard streamed through the network
// (app/image_stream.h: decoded one batch ahead, same-size runs together), statistics accumulated
// per chosen layer and channel. Memory is bounded by one batch and the per-channel
// accumulators, whatever the number of images. Leaves out: scan.json (scan_json.cpp), the mosaics
// (scan_mosaic.cpp), merging shards (scan_merge.cpp). Spec: the `scan` section of docs/DESIGN.md.
#include "app/scan.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "app/feature_maps.h"
#include "app/image_stream.h"
#include "app/network_input.h"
#include "app/scan_json.h"
#include "app/scan_mosaic.h"
#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "image/input.h"
#include "models/network.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

// The CLI checks the same bounds as it parses (cli/flags.h); these guard other callers.
void check_options(const ScanOptions& o) {
  if (o.topk < 1 || o.topk > kMaxScanTopk)
    fail("", "the top-k must be 1.." + std::to_string(kMaxScanTopk) + ", got " +
                 std::to_string(o.topk));
  if (o.batch < 1) fail("", "the batch size must be 1 or more, got " + std::to_string(o.batch));
  if (o.threads < 0)
    fail("", "the thread count must be 0 (default) or more, got " + std::to_string(o.threads));
  parse_shard(o.shard);
}

struct Accumulator {
  const models::Network& net;
  const std::vector<std::string>& layer_names;
  const std::vector<ScanImage>& list;
  ScanResult& result;
  const std::vector<std::string>& taps;  // layer_names and the BatchNorm layers' inputs

  // Runs `inputs` (same size) and adds what the taps show.
  void add(const at::Tensor& inputs, const std::vector<int64_t>& indices,  // [B, C, H, W]
           const std::string& checkpoint) {
    const models::ForwardResult forward = net.run(inputs, taps);
    for (size_t l = 0; l < layer_names.size(); ++l) {
      const at::Tensor maps = feature_maps(*forward.find(layer_names[l]), layer_names[l],
                                           net.info().arch, checkpoint);  // [B, C, H, W]
      ScanLayer& layer = result.layers[l];
      if (layer.channels.empty()) {
        layer.shape = {maps.size(1), maps.size(2), maps.size(3)};
        layer.channels.resize(static_cast<size_t>(maps.size(1)));
        layer.top.assign(static_cast<size_t>(maps.size(1)), TopK(result.topk));
      }
      const at::Tensor values = maps.to(at::kDouble);  // [B, C, H, W], converted once
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
      offer_spatial_maxima(maps, indices, layer.top);
      const at::Tensor sums = values.sum({2, 3});  // [B, C]
      const int64_t positions = maps.size(2) * maps.size(3);
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

void collect_hit_images(ScanResult& r, const std::vector<ScanImage>& list) {
  for (const ScanLayer& layer : r.layers)
    for (const TopK& top : layer.top)
      for (const TopHit& hit : top.hits())
        r.hit_images[hit.image] = list[static_cast<size_t>(hit.image)].path;
}

}  // namespace

ScanResult run_scan(const ScanOptions& o, const StepFn& on_step) {
  check_options(o);
  const ScanShard shard = parse_shard(o.shard);
  register_input(o.checkpoint);
  const std::vector<ScanImage> list = list_scan_images(o.images);
  const StateDict sd = load_state_dict(o.checkpoint);
  const models::Network net = models::build_network(sd, {o.arch, o.transform_input});
  if (o.threads > 0) at::set_num_threads(static_cast<int>(o.threads));

  ScanResult r;
  r.checkpoint = o.checkpoint;
  std::error_code ec;
  r.checkpoint_bytes = static_cast<int64_t>(fs::file_size(o.checkpoint, ec));
  r.arch = net.info().arch;
  const PreprocessOptions pre = network_preprocess(o.preprocess, net.info());
  r.preset = pre.name;
  r.topk = o.topk;
  r.shard_count = shard.count;
  r.shards = {shard.index};
  r.listed = static_cast<int64_t>(list.size());
  r.list_hash = scan_list_hash(list, o.images);
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
  ImageStreamCalls calls;
  calls.batch = [&](const std::vector<at::Tensor>& batches, const std::vector<int64_t>& indices) {
    acc.add(batches[0], indices, o.checkpoint);
  };
  calls.skipped = [&](int64_t index, const std::string& error) {
    r.skipped.push_back({list[static_cast<size_t>(index)].path, error});
  };
  calls.step = [&](const std::string& path) {
    if (on_step) on_step(r.selected, path);
  };
  stream_images(list, picks, {pre}, o.batch, calls);
  collect_hit_images(r, list);
  for (ScanLayer& layer : r.layers) {
    if (!layer.field || layer.channels.empty()) continue;
    draw_scan_mosaic(layer, list, pre, out_dir.staging());
    layer.mosaic = out_dir.final_path(layer.mosaic);  // as scan.json names it
  }
  write_scan_json(r, out_dir.staging());
  out_dir.commit();
  return r;
}

}  // namespace cnnscope::app
