// libFuzzer target over the image decoders (format sniffing, JPEG via libturbojpeg, PNG via
// libpng, cnnscope's own BMP reader, GIF via giflib, WebP via libwebp, TIFF via libtiff, the
// Pillow conversions to RGB): any input must decode to [H, W, 3] uint8 or throw Error, within
// the pixel limit. Leaves out: resizing, presets and the CLI. Run it with
// `FUZZ_TARGET=fuzz_decode make fuzz` (scripts/fuzz.sh).
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "fuzz_input.h"
#include "image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cnnscope::fuzz::write_input(data, size, ".img");
  if (path.empty()) return 0;
  try {
    at::Tensor rgb = cnnscope::decode_rgb(path);  // [H, W, 3] uint8
    if (rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != at::kByte) __builtin_trap();
    // Touch every byte so a short pixel buffer would fault here (max: no widened copy; an RLE
    // BMP of 100 bytes may rightly hold 90M pixels, as in Pillow).
    if (rgb.numel() && rgb.max().item<uint8_t>() == 7) std::fputs("", stderr);
  } catch (const cnnscope::Error&) {
  }
  return 0;
}
