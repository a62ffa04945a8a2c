// WebP (lossy, lossless, alpha, first frame of an animation) through Debian's libwebp demux
// WebPAnimDecoder in RGBA, the API Pillow's _webp module uses, then alpha dropped as
// convert("RGB"). Leaves out: later animation frames, ICC/EXIF. Spec: Pillow WebPImagePlugin.py.
#include <webp/decode.h>
#include <webp/demux.h>

#include <memory>

#include "common/error.h"
#include "image/decode_internal.h"

namespace cnnscope {
namespace {

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* d) const { WebPAnimDecoderDelete(d); }
};

}  // namespace

at::Tensor decode_webp(const std::string& path, const uint8_t* data, size_t size) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK)
    fail(path, "bad WebP header (libwebp status " + std::to_string(status) + ")",
         "the file may be truncated or corrupt");
  check_dimensions(path, features.width, features.height);
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) fail(path, "cannot start the WebP decoder");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  const WebPData webp{data, size};
  // The canvas size is checked before the decoder allocates it.
  std::unique_ptr<WebPDemuxer, void (*)(WebPDemuxer*)> demux(WebPDemux(&webp), WebPDemuxDelete);
  if (!demux) fail(path, "cannot parse the WebP container", "the file may be truncated or corrupt");
  check_dimensions(path, WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_WIDTH),
                   WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_HEIGHT));
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(WebPAnimDecoderNew(&webp, &options));
  if (!decoder) fail(path, "cannot decode WebP", "the file may be truncated or corrupt");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info))
    fail(path, "cannot read the WebP canvas", "the file may be truncated or corrupt");
  uint8_t* rgba = nullptr;  // [canvas_height, canvas_width, 4], owned by the decoder
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp))
    fail(path, "cannot decode the first WebP frame", "the file may be truncated or corrupt");
  at::Tensor rgb = new_rgb(path, info.canvas_width, info.canvas_height);  // [H, W, 3]
  uint8_t* out = rgb.data_ptr<uint8_t>();
  const int64_t pixels = static_cast<int64_t>(info.canvas_width) * info.canvas_height;
  for (int64_t i = 0; i < pixels; ++i)
    for (int c = 0; c < 3; ++c) out[3 * i + c] = rgba[4 * i + c];
  return rgb;
}

}  // namespace cnnscope
