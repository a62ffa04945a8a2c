// The fonts a pip wheel carries (<prefix>/share/cnnscope/fonts, DejaVu Sans and Bold), made
// known to fontconfig once, before the first text is drawn, so that figures look the same on a
// machine without fonts-dejavu-core. Where none are bundled (a build tree, the Debian package,
// which depends on fonts-dejavu-core) the system's fonts serve. Leaves out: fonts named by users.
// Spec: fontconfig's FcConfigAppFontAddDir.
#pragma once

namespace cnnscope {

// Adds the bundled fonts folder to fontconfig's application fonts; the first call only.
void use_bundled_fonts();

}  // namespace cnnscope
