// Precompiled header of the sources that use LibTorch's C++ API (torch::nn modules, torch::optim,
// torch::autograd, torch::jit: the stages models, graph and explain, and training) and of the
// tests. The largest of the three (about 140 MB with clang; CMakeLists.txt says which sources
// take which): torch/torch.h is the slow part of every compile that needs it.
#pragma once
#include <torch/torch.h>
