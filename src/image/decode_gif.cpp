// GIF, first frame, through Debian's giflib (LZW and block parsing), then Pillow's frame-0 rules:
// the canvas is the logical screen grown to hold the frame; pixels outside the frame hold the
// transparent index if the frame has one, else 0; the frame's local palette replaces the global
// one; a palette that is the gray ramp (i, i, i) makes mode "L" (the pixel is its index); indices
// past the palette are black; convert("RGB") ignores transparency. Leaves out: later frames.
// Spec: Pillow GifImagePlugin.py (_open, _seek, load_prepare), GIF89a.
#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "image/decode_internal.h"

namespace cnnscope {
namespace {

struct GifRead {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int gif_read_from_memory(GifFileType* gif, GifByteType* out, int length) {
  GifRead* r = static_cast<GifRead*>(gif->UserData);
  const size_t n = std::min(static_cast<size_t>(std::max(length, 0)), r->size - r->pos);
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};

// Pillow's _is_palette_needed: false when entry i is (i, i, i) for every i.
bool is_gray_ramp(const ColorMapObject* map) {
  for (int i = 0; i < map->ColorCount; ++i) {
    const GifColorType& c = map->Colors[i];
    if (c.Red != i || c.Green != i || c.Blue != i) return false;
  }
  return true;
}

[[noreturn]] void fail_gif(const std::string& path, int error) {
  const char* text = GifErrorString(error);
  fail(path, std::string("cannot decode GIF: ") + (text ? text : "giflib failed"),
       "the file may be truncated or corrupt");
}

}  // namespace

at::Tensor decode_gif(const std::string& path, const uint8_t* data, size_t size) {
  GifRead io{data, size, 0};
  int error = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&io, gif_read_from_memory, &error));
  if (!gif) fail_gif(path, error);
  int transparency = -1;  // from the last graphic control extension before the image
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) fail_gif(path, gif->Error);
    if (type == TERMINATE_RECORD_TYPE)
      fail(path, "GIF holds no image", "the file may be truncated or corrupt");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;  // block[0]: its length
      if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) fail_gif(path, gif->Error);
      if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4)
        transparency = (block[1] & 1) ? block[4] : -1;
      while (block)
        if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) fail_gif(path, gif->Error);
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) fail_gif(path, gif->Error);
    break;
  }
  const GifImageDesc& frame = gif->Image;
  const int64_t width = std::max<int64_t>(gif->SWidth, int64_t{frame.Left} + frame.Width);
  const int64_t height = std::max<int64_t>(gif->SHeight, int64_t{frame.Top} + frame.Height);
  check_dimensions(path, width, height);
  const ColorMapObject* map = frame.ColorMap ? frame.ColorMap : gif->SColorMap;
  const bool gray = !map || is_gray_ramp(map);
  std::vector<uint8_t> indices(static_cast<size_t>(width * height),
                               static_cast<uint8_t>(transparency < 0 ? 0 : transparency));
  std::vector<GifPixelType> line(static_cast<size_t>(std::max(frame.Width, 1)));
  // Row order in the stream: 4 interlace passes (from rows 0, 4, 2, 1 by 8, 8, 4, 2) or plain.
  std::vector<int> rows;
  if (frame.Interlace) {
    const int starts[] = {0, 4, 2, 1}, steps[] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = starts[p]; y < frame.Height; y += steps[p]) rows.push_back(y);
  } else {
    for (int y = 0; y < frame.Height; ++y) rows.push_back(y);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (frame.Width == 0) break;
    if (DGifGetLine(gif.get(), line.data(), frame.Width) == GIF_ERROR) {
      // giflib reads on past the last pixel to the block terminator; Pillow stops at the last
      // pixel, so a file cut there is still whole.
      if (!(i + 1 == rows.size() && gif->Error == D_GIF_ERR_READ_FAILED))
        fail_gif(path, gif->Error);
    }
    uint8_t* dst = indices.data() + (int64_t{frame.Top} + rows[i]) * width + frame.Left;
    std::memcpy(dst, line.data(), static_cast<size_t>(frame.Width));
  }
  std::array<std::array<uint8_t, 3>, 256> palette{};  // black past the palette's end
  for (int i = 0; i < 256; ++i) {
    if (gray) {
      palette[i] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i), static_cast<uint8_t>(i)};
    } else if (i < map->ColorCount) {
      palette[i] = {map->Colors[i].Red, map->Colors[i].Green, map->Colors[i].Blue};
    }
  }
  at::Tensor rgb = new_rgb(path, width, height);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  for (size_t i = 0; i < indices.size(); ++i)
    std::memcpy(out + 3 * i, palette[indices[i]].data(), 3);
  return rgb;
}

}  // namespace cnnscope
