// Precompiled header of the library's other sources and of the server: tensors (ATen), JSON and
// {fmt}, what nearly all of them include. Without torch/torch.h's modules, optimizers and JIT it
// loads in a tenth of pch_torch.h's time (0.26 s against 2.0 s for an empty file, clang 14).
#pragma once
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
