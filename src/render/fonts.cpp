// See fonts.h. The folder is found beside the executable (common/installation.h);
// CNNSCOPE_BUNDLED_FONTS is defined for this file by cmake/Install.cmake in builds that carry them.
#include "render/fonts.h"

#include <fontconfig/fontconfig.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "common/installation.h"

namespace cnnscope {
#ifdef CNNSCOPE_BUNDLED_FONTS
namespace {
// A regular file (not a link, FIFO or device) that root or this user owns and only its owner may
// change: what pip or a package manager installed, not something another user put beside a copy
// of the binary.
bool trusted_font(const std::filesystem::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return (st.st_uid == 0 || st.st_uid == geteuid()) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}
}  // namespace

void use_bundled_fonts() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::filesystem::path data = installed_data_dir();
    if (data.empty()) return;
    for (const char* name : {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}) {
      const std::filesystem::path font = data / "fonts" / name;
      if (!trusted_font(font)) continue;
      // Failure leaves the system's fonts in use: a figure is still drawn.
      FcConfigAppFontAddFile(nullptr, reinterpret_cast<const FcChar8*>(font.c_str()));
    }
  });
}
#else
void use_bundled_fonts() {}  // a build that carries no fonts: the system's serve
#endif

}  // namespace cnnscope
