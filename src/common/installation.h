// Where the running cnnscope is and what it runs on: the executable's own path (from
// /proc/self/exe), its data folder beside it (<prefix>/share/cnnscope: the fonts a pip wheel
// carries) and the LibTorch it loaded (version and the shared library's path, for --version).
// Leaves out: other operating systems than Linux (no /proc/self/exe: the paths come back empty).
// Spec: proc(5) /proc/self/exe, dladdr(3), LibTorch's at::show_config() ("TORCH_VERSION=").
#pragma once

#include <filesystem>
#include <string>

namespace cnnscope {

// The running executable's absolute path, or "" where the system does not say.
std::filesystem::path executable_path();

// <folder of the executable>/../share/cnnscope when that folder exists, else "". A wheel and
// `make install` put data there; a build tree has none.
std::filesystem::path installed_data_dir();

struct LibTorchInfo {
  std::string version;        // of the library loaded now ("2.15.0"; "" when it does not say)
  std::string built_against;  // of the headers cnnscope was compiled with
  std::string library;        // the loaded libtorch_cpu's path ("" when unknown)
};
LibTorchInfo libtorch_info();

}  // namespace cnnscope
