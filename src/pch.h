// Precompiled header for the library, CLI and tests: LibTorch is the slow part of every compile.
#pragma once
#include <torch/torch.h>
