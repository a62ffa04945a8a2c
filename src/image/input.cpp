// The network input from a file: photos through decode -> resize -> crop -> ToTensor -> Normalize
// (torchvision + Pillow, bit for bit), .npy tensors as they are. Presets per docs/DESIGN.md.
// Leaves out: batches (one image per call), inputs other than JPEG, PNG and float32 .npy.
#include "image/input.h"

#include <cmath>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "common/npy.h"
#include "image/decode.h"
#include "image/transforms.h"

namespace cnnscope {
namespace {

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

at::Tensor npy_input(const std::string& path, int64_t channels) {
  at::Tensor t = read_npy(path);
  if (t.scalar_type() != at::kFloat)
    fail(path,
         "input array has dtype " + std::string(c10::toString(t.scalar_type())) +
             ", expected float32",
         "save it with arr.astype(numpy.float32)");
  if (t.dim() == 4 && t.size(0) == 1) t = t.squeeze(0);
  const std::string c = std::to_string(channels);
  if (t.dim() != 3 || t.size(0) != channels || t.size(1) == 0 || t.size(2) == 0)
    fail(path, "input array has shape " + shape_of(t) + ", expected [" + c + ",H,W] or [1," + c +
                   ",H,W]");
  return t.contiguous();
}

// A normalized tensor back to the picture it would come from: x * std + mean, to 0..255.
at::Tensor picture_of(const at::Tensor& tensor, const PreprocessOptions& options) {
  at::Tensor m = at::tensor({options.mean[0], options.mean[1], options.mean[2]}, at::kDouble);
  at::Tensor s = at::tensor({options.std[0], options.std[1], options.std[2]}, at::kDouble);
  at::Tensor x = tensor.to(at::kDouble) * s.view({-1, 1, 1}) + m.view({-1, 1, 1});  // [3, H, W]
  return x.mul(255).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
}

}  // namespace

Input load_input_with_picture(const std::string& path, const PreprocessOptions& options) {
  register_input(path);
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  Input input;
  if (sniff_image(file->data(), file->size()) == ImageKind::kNpy) {
    input.tensor = npy_input(path, options.channels);
    input.picture = picture_of(input.tensor, options);
    return input;
  }
  at::Tensor rgb = decode_rgb(path);  // [H, W, 3]
  try {
    input.picture = resize_and_crop(rgb, options);          // [h, w, 3]
    input.tensor = network_tensor(input.picture, options);  // [C, h, w]
  } catch (const Error& e) {
    fail(path, e.what(), "", e.settings());
  }
  return input;
}

at::Tensor load_input(const std::string& path, const PreprocessOptions& options) {
  return load_input_with_picture(path, options).tensor;
}

}  // namespace cnnscope
