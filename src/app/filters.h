// The `filters` job: one convolution's kernels drawn as a picture and written atomically; the
// layer is named by module ("features.0") or key ("features.0.weight"), or found as the first conv
// weight in file order. Leaves out: 1-D/3-D convolutions.
#pragma once

#include <string>

#include "checkpoint/state_dict.h"
#include "render/filter_mosaic.h"

namespace cnnscope::app {

struct FiltersOptions {
  std::string checkpoint;
  std::string layer;                // "" = the first conv weight
  std::string out = "filters.png";  // .png, .svg or .pdf, by extension
  FilterMosaicOptions mosaic;       // its title is set to the key drawn
};

struct FiltersResult {
  std::string file;  // the checkpoint as loaded
  std::string key;   // the weight drawn
  std::vector<int64_t> shape;
};

// Loads the checkpoint, draws the figure and writes it to `options.out`.
FiltersResult write_filters_figure(const FiltersOptions& options);

// The same drawing in memory (also `cnnscope serve`): `layer` as FiltersOptions::layer.
struct FilterFigure {
  std::string key;  // the weight drawn
  std::vector<int64_t> shape;
  std::string bytes;  // the figure file's contents
};
FilterFigure render_filters(const StateDict& sd, const std::string& layer,
                            const FilterMosaicOptions& mosaic, FigureFormat format);

}  // namespace cnnscope::app
