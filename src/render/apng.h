// Animated PNG from PNG frames of one size: the frames' own compressed image data is rewrapped
// (IDAT of the first frame kept, later frames as fdAT), so any PNG encoder's output animates and
// browsers show it (still images elsewhere show the first frame). Leaves out: frame offsets,
// blending and disposal other than "replace"; GIF (no Debian library encodes it well enough).
// Spec: APNG 1.0 (acTL, fcTL, fdAT chunks) over PNG (ISO/IEC 15948) chunk framing.
#pragma once

#include <string>
#include <vector>

namespace cnnscope {

// `frames`: complete PNG files, all of the same width, height and pixel format; `delay_ms` per
// frame; loops forever. Throws Error on an empty list, a malformed PNG or mismatched frames.
std::string assemble_apng(const std::vector<std::string>& frames, int delay_ms);

}  // namespace cnnscope
