// Executable and data paths from /proc/self/exe; LibTorch's version from the build settings line
// of at::show_config() and its path from dladdr on one of its functions. See installation.h.
#include "common/installation.h"

#include <ATen/Version.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <system_error>

namespace cnnscope {

std::filesystem::path executable_path() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe;
}

std::filesystem::path installed_data_dir() {
  const std::filesystem::path exe = executable_path();
  if (exe.empty()) return {};
  std::error_code ec;
  std::filesystem::path dir = exe.parent_path().parent_path() / "share" / "cnnscope";
  return std::filesystem::is_directory(dir, ec) ? dir : std::filesystem::path();
}

namespace {
// "TORCH_VERSION=2.15.0," in at::show_config()'s "Build settings:" line.
std::string version_from_config(const std::string& config) {
  const std::string key = "TORCH_VERSION=";
  const size_t at = config.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = config.find_first_of(", \n", begin);
  return config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}
}  // namespace

LibTorchInfo libtorch_info() {
  LibTorchInfo info;
  info.built_against = TORCH_VERSION;
  info.version = version_from_config(at::show_config());
  Dl_info where{};
  // A function defined in libtorch_cpu itself (not inline in a header).
  // The path as the loader found it (through the RUNPATH), links kept: where the user put it.
  if (dladdr(reinterpret_cast<void*>(&at::show_config), &where) != 0 && where.dli_fname)
    info.library = std::filesystem::path(where.dli_fname).lexically_normal().string();
  return info;
}

}  // namespace cnnscope
