// The preprocessing of a network's inputs: the user's preprocessing text resolved against what
// the network says it needs (its default preset, input channels and fixed size). Every command
// that feeds images to a network goes through it. Leaves out: the resolution rules themselves
// (image/preprocess_spec.h).
#pragma once

#include "image/preprocess_spec.h"
#include "models/network.h"

namespace cnnscope::app {

PreprocessOptions network_preprocess(const PreprocessSpec& spec, const models::ArchInfo& info);

}  // namespace cnnscope::app
