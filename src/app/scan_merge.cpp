// run_merge (see scan_merge.h): shard outputs checked against the first and combined exactly
// (counts, min/max, top-k; means and M2 by Chan et al.'s update). Spec: the `merge` section of
// docs/DESIGN.md.
#include "app/scan_merge.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "app/scan_json.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope::app {

namespace fs = std::filesystem;

namespace {

void check_same(const std::string& file, const std::string& what, const std::string& want,
                const std::string& got) {
  if (want != got)
    fail(file, what + " differs: " + got + " here, " + want + " in the first",
         "merge only the shards of one scan plan (same checkpoint, layers, preset, top-k, images "
         "and shard count)");
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
  write_scan_json(r, o.out);
  return r;
}

}  // namespace cnnscope::app
