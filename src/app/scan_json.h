// scan.json: a scan or merge result written as JSON and read back exactly (doubles with 17
// digits), so that shards can be merged and reports drawn later. Leaves out: computing the
// statistics (app/scan.h). Spec: the `scan` section of docs/DESIGN.md (scan.json).
#pragma once

#include <string>

#include "app/scan.h"

namespace cnnscope::app {

// scan.json as written (and printed by --json).
std::string scan_json(const ScanResult& result);

// Writes DIR/scan.json atomically (creating DIR) and keeps the text in `result.json`.
void write_scan_json(ScanResult& result, const std::string& dir);

// Reads a scan.json back. Throws Error naming it.
ScanResult read_scan_json(const std::string& path);

}  // namespace cnnscope::app
