// Reads tests/oracle/make_image_oracle.py's manifest: one case per line, first word its kind
// (decode, pipeline, resize, bad), then its fields; file names are relative to the fixture folder.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "image/input.h"
#include "testing.h"

namespace cnnscope::testing {

inline std::string image_fixture(const std::string& name) {
  return fixture("image/" + name);
}

// The rows of `kind` in the manifest of fixture folder `folder` (make_image_bicubic.py writes
// "image_bicubic").
inline std::vector<std::vector<std::string>> manifest(const std::string& kind,
                                                      const std::string& folder = "image") {
  std::ifstream in(fixture(folder + "/manifest.txt"));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> row;
    std::string w;
    while (words >> w) row.push_back(w);
    if (!row.empty() && row[0] == kind) rows.emplace_back(row.begin() + 1, row.end());
  }
  return rows;
}

// A pipeline row: image, name, short, height, width, crop, mean x3, std x3, tensor.npy,
// picture.npy.
inline PreprocessOptions pipeline_options(const std::vector<std::string>& row) {
  PreprocessOptions o;
  o.name = row[1];
  o.resize_short = std::stoll(row[2]);
  o.resize_height = std::stoll(row[3]);
  o.resize_width = std::stoll(row[4]);
  o.crop_height = o.crop_width = std::stoll(row[5]);
  for (int c = 0; c < 3; ++c) {
    o.mean[c] = std::stod(row[6 + c]);
    o.std[c] = std::stod(row[9 + c]);
  }
  return o;
}

}  // namespace cnnscope::testing
