// write_filters_figure and render_filters (see filters.h). Spec: the `filters` section of
// docs/DESIGN.md.
#include "app/filters.h"

#include <filesystem>

#include "checkpoint/state_dict.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

constexpr const char* kWeightSuffix = ".weight";

FigureFormat format_of(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext.empty()) fail(path, "output has no extension", "name it .png, .svg or .pdf");
  return parse_figure_format(ext.substr(1));
}

// --layer takes "features.0" or "features.0.weight"; empty picks the first conv weight.
const NamedTensor& find_layer(const StateDict& sd, const std::string& layer) {
  if (layer.empty()) {
    if (const NamedTensor* t = first_conv_weight(sd)) return *t;
    fail(sd.file, "no convolution weight (4-D floating tensor) in the checkpoint",
         "filters draws conv kernels; `cnnscope ls` lists what the file holds");
  }
  for (const NamedTensor& t : sd.tensors)
    if (t.name == layer || t.name == layer + kWeightSuffix) return t;
  fail(sd.file, "no tensor '" + layer + "' or '" + layer + kWeightSuffix + "'",
       conv_weights_hint(sd));
}

}  // namespace

FilterFigure render_filters(const StateDict& sd, const std::string& layer,
                            const FilterMosaicOptions& options, FigureFormat format) {
  if (options.max_kernels < 0 || options.max_channels < 0)
    fail("", "the kernel and channel counts must be 0 (all) or more");
  const NamedTensor& conv = find_layer(sd, layer);
  if (!is_conv_weight(conv.tensor))
    fail(sd.file, "'" + conv.name + "' is not a convolution weight (4-D floating tensor)",
         conv_weights_hint(sd));
  FilterMosaicOptions mosaic = options;
  mosaic.title = conv.name;
  FilterFigure figure{conv.name, conv.tensor.sizes().vec(), {}};
  try {
    figure.bytes = filter_mosaic(conv.tensor, mosaic, format);
  } catch (const Error& e) {
    fail(sd.file, e.what(), "", e.settings());
  }
  return figure;
}

FiltersResult write_filters_figure(const FiltersOptions& options) {
  const FigureFormat format = format_of(options.out);
  if (options.mosaic.max_kernels < 0 || options.mosaic.max_channels < 0)
    fail("", "the kernel and channel counts must be 0 (all) or more");
  const StateDict sd = load_state_dict(options.checkpoint);
  const FilterFigure figure = render_filters(sd, options.layer, options.mosaic, format);
  write_file_atomic(options.out, figure.bytes);
  return {sd.file, figure.key, figure.shape};
}

}  // namespace cnnscope::app
