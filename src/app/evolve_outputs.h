// The files of an `evolve` run in its output folder: drift curves per layer, the alpha and CKA
// curves and layers.json (when asked for), a histogram heat map per tensor, the first conv's
// filter frames and their APNG animation, and evolve.html (PNG and SVG series). Leaves out:
// computing any value (evolve.cpp) and the page's markup (evolve_page.h). Spec: the `evolve`
// section of docs/DESIGN.md.
#pragma once

#include <string>
#include <vector>

#include "app/evolve.h"
#include "export/html_report.h"

namespace cnnscope::app {

// Writes options.out whole or not at all; fills result.figures and result.html. `frames`: the
// filter mosaic of the convolution named `conv` per checkpoint (none: empty).
void write_evolve_outputs(const EvolveOptions& options, EvolveResult& result,
                          const std::vector<ReportFigure>& frames, const std::string& conv);

}  // namespace cnnscope::app
