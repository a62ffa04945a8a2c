// Precompiled header of the CLI (src/cli/): pch_aten.h and CLI11, which every subcommand's file
// includes and which is header-only (a cli file compiles in 2.9 s with it, 5.1 s with
// pch_torch.h, clang 14).
#pragma once
#include <CLI/CLI.hpp>

#include "pch_aten.h"
