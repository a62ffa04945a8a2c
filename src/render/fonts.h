// The fonts a pip wheel carries (<prefix>/share/cnnscope/fonts: DejaVuSans.ttf and
// DejaVuSans-Bold.ttf), made known to fontconfig once, before the first text is drawn, so that
// figures look the same on a machine without fonts-dejavu-core. Only a build made to carry them
// (CMake's CNNSCOPE_BUNDLE_FONTS, the wheel) looks, and it adds those two names only, each when
// it is a regular file (not a link, FIFO or device: nothing that could block or redirect the
// read) owned by root or the user and writable by its owner only; other builds (a build tree, the
// Debian package, which depends on fonts-dejavu-core) use the system's fonts. Leaves out: fonts
// named by users. Spec: fontconfig's FcConfigAppFontAddFile.
#pragma once

namespace cnnscope {

// Adds the bundled fonts to fontconfig's application fonts; the first call only.
void use_bundled_fonts();

}  // namespace cnnscope
