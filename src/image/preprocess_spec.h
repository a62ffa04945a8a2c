// The pipeline a user asks for, as text (`--preset`, `--resize N|HxW`, `--crop N`, `--mean a,b,c`,
// `--std a,b,c`), turned into PreprocessOptions. Shared by every command that reads images.
// Leaves out: the transforms themselves (transforms.h) and flag parsing (cli/flags.h).
#pragma once

#include <cstdint>
#include <string>

#include "image/input.h"

namespace cnnscope {

struct PreprocessSpec {
  std::string preset;  // "" = the model's default
  std::string resize;  // "" | "N" (shorter side) | "HxW"
  int64_t crop = 0;    // CenterCrop N; 0 = none
  std::string mean;    // "" | "a,b,c"
  std::string std;     // "" | "a,b,c"
};

// Custom steps alone start from no resize, no crop, mean 0, std 1 (the default preset's input
// channels); with a preset they replace that preset's steps (name "<preset>+custom"). Nothing
// given: `default_preset`. Throws Error naming the flag on malformed text.
PreprocessOptions resolve_preprocess(const PreprocessSpec& spec, const std::string& default_preset);

}  // namespace cnnscope
