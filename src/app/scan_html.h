// The report's "Data set" section drawn from a scan result. Leaves out: the rest of the report
// (app/report.h, export/html_report.h). Spec: the `report` section of docs/DESIGN.md (--scan).
#pragma once

#include <string>

#include "app/scan.h"

namespace cnnscope::app {

// Inner HTML, every text escaped: image counts, per layer a channel table (statistics, dead/always
// on, strongest image), the BatchNorm check, the mosaic (read from `dir`, where the scan wrote it)
// and the classes.
std::string scan_report_html(const ScanResult& result, const std::string& dir);

}  // namespace cnnscope::app
