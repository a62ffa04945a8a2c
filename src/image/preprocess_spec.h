// The pipeline a user asks for, as text (`--preset`, `--resize N|HxW`, `--crop N`,
// `--interpolation`, `--mean`, `--std`, `--grayscale`), turned into PreprocessOptions for the input
// a network needs. Shared by every command that reads images. Leaves out: the transforms themselves
// (transforms.h) and flag parsing (cli/flags.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/input.h"

namespace cnnscope {

struct PreprocessSpec {
  std::string preset;         // "" = the model's default
  std::string resize;         // "" | "N" (shorter side) | "HxW"
  int64_t crop = 0;           // CenterCrop N; 0 = none
  std::string interpolation;  // "" = the preset's | one of interpolation_names()
  std::string mean;           // "" | "a" (every channel) | one number per channel "a,b,c"
  std::string std;            // the same
  bool grayscale = false;     // a one-channel input (Pillow's convert("L")), whatever the network's
};

// What the network itself says about its input (models::ArchInfo's fields).
struct NetworkInput {
  std::string preset;    // its default preset
  int64_t channels = 0;  // C it takes; 0: the preset's
  int64_t size = 0;      // the H = W it needs; 0: any
};

// Resize's filters by name, as torchvision's InterpolationMode values: "bilinear", "bicubic",
// "nearest".
std::vector<std::string> interpolation_names();

// Custom steps alone start from no resize, no crop, mean 0, std 1; with a preset they replace
// that preset's steps (name "<preset>+custom"). Nothing given: `net.preset`. The channels are the
// network's (1 with grayscale); a network of a fixed size gets Resize((size, size)) unless the
// user resizes or crops, or the preset already makes that size. An interpolation replaces the
// preset's filter (name "<preset>+<filter>" where it differs). Throws Error on malformed text,
// naming the step ("mean", "resize"), not a flag.
PreprocessOptions resolve_preprocess(const PreprocessSpec& spec, const NetworkInput& net);
// The same with `default_preset`'s channels and any size.
PreprocessOptions resolve_preprocess(const PreprocessSpec& spec, const std::string& default_preset);

}  // namespace cnnscope
