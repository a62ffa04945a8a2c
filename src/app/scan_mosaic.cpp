// The top-patch mosaic of a scanned layer (see scan_mosaic.h). Images are decoded again by worker
// threads (common/parallel.h), one image at a time, each cut once for all of its hits. Spec: the
// `scan` section of docs/DESIGN.md.
#include "app/scan_mosaic.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel.h"
#include "render/top_patches.h"

namespace cnnscope::app {

namespace fs = std::filesystem;

// Cuts each top hit's patch out of its image (decoded again, by worker threads, one image at a
// time) and draws the layer's mosaic, channels ordered by their max.
void draw_scan_mosaic(ScanLayer& layer, const std::vector<ScanImage>& list,
                      const PreprocessOptions& pre, const std::string& out) {
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

}  // namespace cnnscope::app
