// See fonts.h. The folder is found beside the executable (common/installation.h).
#include "render/fonts.h"

#include <fontconfig/fontconfig.h>

#include <mutex>

#include "common/installation.h"

namespace cnnscope {

void use_bundled_fonts() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::filesystem::path data = installed_data_dir();
    if (data.empty()) return;
    const std::filesystem::path fonts = data / "fonts";
    std::error_code ec;
    if (!std::filesystem::is_directory(fonts, ec)) return;
    // Failure leaves the system's fonts in use: a figure is still drawn.
    FcConfigAppFontAddDir(nullptr, reinterpret_cast<const FcChar8*>(fonts.c_str()));
  });
}

}  // namespace cnnscope
