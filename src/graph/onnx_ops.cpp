// The ONNX operators cnnscope runs (onnx_ops.h): one short case per op, each reading its node's
// attributes once when the file is read and returning a kernel that calls ATen (convolution,
// batch_norm, pooling, addmm, reshape, ...). Shape-valued inputs (Reshape's shape, Slice's
// starts, Squeeze's axes from opset 13) stay int64 tensors in the graph and become int lists
// inside the kernels, each bounded. Opset differences handled: axes as attributes or inputs
// (Split, Squeeze, Unsqueeze at 13; ReduceSum at 13, ReduceMean at 18), Softmax's 2-D coercion
// before 13, Pad's axes (18), Split's num_outputs (18), Resize's modes; asymmetric and auto_pad
// padding through constant_pad_nd before convolution and pooling. Leaves out: training mode,
// MaxPool's indices, Resize's cubic mode, antialiasing, tf_crop_and_resize and linear
// asymmetric coordinates, AveragePool dilations. Spec: onnx/docs/Operators.md (opsets 11-25).
#include "graph/onnx_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

#include "graph/interpreter.h"

namespace cnnscope::graph::onnx_ops {
namespace {

constexpr size_t kMaxInts = 4096;  // entries of an ints attribute or shape-valued tensor
constexpr int kMaxSpatial = 3;

using Ints = std::vector<int64_t>;

// A node's positional inputs inside its kernel.
class In {
 public:
  In(const std::vector<c10::IValue>& args, const std::vector<int>& slots)
      : args_(args), slots_(slots) {}
  size_t size() const { return slots_.size(); }
  bool has(size_t i) const { return i < slots_.size() && slots_[i] >= 0; }
  const at::Tensor& operator[](size_t i) const {
    if (!has(i)) throw std::runtime_error("input " + std::to_string(i) + " is missing");
    return args_[static_cast<size_t>(slots_[i])].toTensor();
  }

 private:
  const std::vector<c10::IValue>& args_;
  const std::vector<int>& slots_;
};

// What a factory returns: the node's outputs from its inputs, in ONNX order.
using Body = std::function<std::vector<at::Tensor>(const In& in)>;

[[noreturn]] void refuse(const Site& s, const std::string& what) {
  throw Refused(s.label + ": " + what);
}

// The node's attributes, each type-checked.
class Attrs {
 public:
  explicit Attrs(const Site& s) : s_(s) {}

  bool has(const char* name) const { return find(name) != nullptr; }
  int64_t i(const char* name, int64_t fallback) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::INT);
    return a ? a->i() : fallback;
  }
  float f(const char* name, float fallback) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::FLOAT);
    return a ? a->f() : fallback;
  }
  std::string s(const char* name, const std::string& fallback) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::STRING);
    return a ? a->s() : fallback;
  }
  Ints ints(const char* name) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::INTS);
    if (!a) return {};
    if (static_cast<size_t>(a->ints_size()) > kMaxInts)
      refuse(s_, "attribute '" + std::string(name) + "' has " + std::to_string(a->ints_size()) +
                     " entries");
    return Ints(a->ints().begin(), a->ints().end());
  }
  std::vector<float> floats(const char* name) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::FLOATS);
    if (!a) return {};
    return std::vector<float>(a->floats().begin(), a->floats().end());
  }
  const onnx::TensorProto* tensor(const char* name) const {
    const onnx::AttributeProto* a = typed(name, onnx::AttributeProto::TENSOR);
    return a ? &a->t() : nullptr;
  }

 private:
  const onnx::AttributeProto* find(const char* name) const {
    for (const onnx::AttributeProto& a : s_.node.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  const onnx::AttributeProto* typed(const char* name,
                                    onnx::AttributeProto::AttributeType type) const {
    const onnx::AttributeProto* a = find(name);
    if (a && a->type() != type)
      refuse(s_, "attribute '" + std::string(name) + "' is of type " + std::to_string(a->type()) +
                     ", not " + std::to_string(type));
    return a;
  }
  const Site& s_;
};

// --- shared helpers -------------------------------------------------------------------------

// The values of a shape-valued tensor (int32/int64, at most 1-D).
Ints ints_of(const at::Tensor& t, const char* what) {
  if (t.dim() > 1 || static_cast<size_t>(t.numel()) > kMaxInts ||
      !at::isIntegralType(t.scalar_type(), /*includeBool=*/false))
    throw std::runtime_error(std::string(what) + " must be a 1-D integer tensor");
  const at::Tensor v = t.to(at::kLong).contiguous();  // [n]
  const int64_t* p = v.data_ptr<int64_t>();
  return Ints(p, p + v.numel());
}

// The values of a float tensor (Resize's scales).
std::vector<float> floats_of(const at::Tensor& t, const char* what) {
  if (t.dim() > 1 || static_cast<size_t>(t.numel()) > kMaxInts || !t.is_floating_point())
    throw std::runtime_error(std::string(what) + " must be a 1-D float tensor");
  const at::Tensor v = t.to(at::kFloat).contiguous();  // [n]
  const float* p = v.data_ptr<float>();
  return std::vector<float>(p, p + v.numel());
}

// A 1-D int64 tensor holding `values`.
at::Tensor long_tensor(const Ints& values) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kLong);  // [n]
  if (!values.empty()) std::memcpy(t.data_ptr(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

int64_t axis_in(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw std::runtime_error("axis " + std::to_string(axis) + " is out of range for rank " +
                             std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

// `values` for `n` spatial dims, or `fill` repeated when the attribute is absent.
Ints per_dim(const Ints& values, size_t n, int64_t fill, const char* name) {
  if (values.empty()) return Ints(n, fill);
  if (values.size() != n)
    throw std::runtime_error(std::string(name) + " has " + std::to_string(values.size()) +
                             " entries for " + std::to_string(n) + " spatial dims");
  return values;
}

// The sliding-window attributes of Conv, ConvTranspose and the pools.
struct Window {
  std::string auto_pad;
  Ints strides, dilations, pads;  // pads: ONNX order, every begin then every end

  static Window read(const Site& s, const Attrs& a) {
    Window w{a.s("auto_pad", "NOTSET"), a.ints("strides"), a.ints("dilations"), a.ints("pads")};
    if (w.auto_pad != "NOTSET" && w.auto_pad != "VALID" && w.auto_pad != "SAME_UPPER" &&
        w.auto_pad != "SAME_LOWER")
      refuse(s, "auto_pad '" + w.auto_pad + "' is not an ONNX value");
    return w;
  }

  // The padding before and after each spatial dim of `in` for kernel sizes `k`.
  std::pair<Ints, Ints> padding(at::IntArrayRef in, const Ints& k) const {
    const size_t n = k.size();
    const Ints s = per_dim(strides, n, 1, "strides"), d = per_dim(dilations, n, 1, "dilations");
    Ints begin(n, 0), end(n, 0);
    if (auto_pad == "NOTSET") {
      const Ints p = per_dim(pads, 2 * n, 0, "pads");
      for (size_t i = 0; i < n; ++i) {
        begin[i] = p[i];
        end[i] = p[n + i];
        if (begin[i] < 0 || end[i] < 0) throw std::runtime_error("negative pads");
      }
    } else if (auto_pad != "VALID") {
      for (size_t i = 0; i < n; ++i) {
        const int64_t out = (in[i] + s[i] - 1) / s[i];
        const int64_t total =
            std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
        const int64_t small = total / 2;
        begin[i] = auto_pad == "SAME_UPPER" ? small : total - small;
        end[i] = total - begin[i];
      }
    }
    return {begin, end};
  }
};

bool symmetric(const Ints& begin, const Ints& end) {
  return begin == end;
}

// constant_pad_nd's list (last dim first) for spatial pads of an [N, C, *spatial] tensor.
Ints torch_pads(const Ints& begin, const Ints& end) {
  Ints out;
  for (size_t i = begin.size(); i-- > 0;) {
    out.push_back(begin[i]);
    out.push_back(end[i]);
  }
  return out;
}

size_t spatial_dims(const at::Tensor& x, const char* op) {
  if (x.dim() < 3 || x.dim() > 2 + kMaxSpatial)
    throw std::runtime_error(std::string(op) + " needs an [N, C, ...] input with 1 to 3 " +
                             "spatial dims, got " + std::to_string(x.dim()) + " dims");
  return static_cast<size_t>(x.dim() - 2);
}

// The op's one output from a function of its first input.
Body unary(at::Tensor (*f)(const at::Tensor&)) {
  return [f](const In& in) { return std::vector<at::Tensor>{f(in[0])}; };
}

Body binary(at::Tensor (*f)(const at::Tensor&, const at::Tensor&)) {
  return [f](const In& in) { return std::vector<at::Tensor>{f(in[0], in[1])}; };
}

// --- the ops --------------------------------------------------------------------------------

Body conv(const Site& s) {
  const Attrs a(s);
  const Window w = Window::read(s, a);
  const int64_t group = a.i("group", 1);
  return [w, group](const In& in) {
    at::Tensor x = in[0];              // [N, C, *spatial]
    const at::Tensor& weight = in[1];  // [M, C / group, *kernel]
    const size_t n = spatial_dims(x, "Conv");
    if (weight.dim() != x.dim()) throw std::runtime_error("Conv weight rank differs from input's");
    const Ints k(weight.sizes().begin() + 2, weight.sizes().end());
    auto [begin, end] = w.padding(x.sizes().slice(2), k);
    if (!symmetric(begin, end)) {
      x = at::constant_pad_nd(x, torch_pads(begin, end), 0);
      begin.assign(n, 0);
    }
    const c10::optional<at::Tensor> bias =
        in.has(2) ? c10::optional<at::Tensor>(in[2]) : c10::nullopt;
    return std::vector<at::Tensor>{at::convolution(
        x, weight, bias, per_dim(w.strides, n, 1, "strides"), begin,
        per_dim(w.dilations, n, 1, "dilations"), false, Ints(n, 0), group)};  // [N, M, *out]
  };
}

Body conv_transpose(const Site& s) {
  const Attrs a(s);
  const Window w = Window::read(s, a);
  const int64_t group = a.i("group", 1);
  const Ints output_padding = a.ints("output_padding"), output_shape = a.ints("output_shape");
  return [w, group, output_padding, output_shape](const In& in) {
    const at::Tensor& x = in[0];       // [N, C, *spatial]
    const at::Tensor& weight = in[1];  // [C, M / group, *kernel]
    const size_t n = spatial_dims(x, "ConvTranspose");
    if (weight.dim() != x.dim())
      throw std::runtime_error("ConvTranspose weight rank differs from input's");
    const Ints s = per_dim(w.strides, n, 1, "strides"), d = per_dim(w.dilations, n, 1, "dilations");
    const Ints op = per_dim(output_padding, n, 0, "output_padding");
    Ints begin(n, 0), end(n, 0);
    const bool same = w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER";
    if (!output_shape.empty() || same) {
      // Operators.md: total_padding = stride * (in - 1) + output_padding + ((k - 1) * d + 1) -
      // output_shape, split by auto_pad.
      const Ints want = output_shape.empty() ? Ints() : per_dim(output_shape, n, 0, "output_shape");
      for (size_t i = 0; i < n; ++i) {
        const int64_t in_i = x.size(static_cast<int64_t>(i) + 2);
        const int64_t k = weight.size(static_cast<int64_t>(i) + 2);
        const int64_t out = want.empty() ? in_i * s[i] : want[i];
        const int64_t total = s[i] * (in_i - 1) + op[i] + ((k - 1) * d[i] + 1) - out;
        if (total < 0) throw std::runtime_error("ConvTranspose output_shape exceeds its output");
        begin[i] = w.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        end[i] = total - begin[i];
      }
    } else if (w.auto_pad == "NOTSET") {
      std::tie(begin, end) = w.padding(x.sizes().slice(2), Ints(n, 1));
    }
    const c10::optional<at::Tensor> bias =
        in.has(2) ? c10::optional<at::Tensor>(in[2]) : c10::nullopt;
    if (symmetric(begin, end))
      return std::vector<at::Tensor>{
          at::convolution(x, weight, bias, s, begin, d, true, op, group)};  // [N, M, *out]
    // Asymmetric: the full output, then each side cropped.
    at::Tensor y = at::convolution(x, weight, bias, s, Ints(n, 0), d, true, op, group);
    for (size_t i = 0; i < n; ++i) {
      const int64_t dim = static_cast<int64_t>(i) + 2;
      y = y.narrow(dim, begin[i], y.size(dim) - begin[i] - end[i]);
    }
    return std::vector<at::Tensor>{y};  // [N, M, *out]
  };
}

Body batch_norm(const Site& s) {
  const Attrs a(s);
  if (a.i("training_mode", 0) != 0) refuse(s, "training_mode 1 is not run (inference only)");
  const double eps = a.f("epsilon", 1e-5f), momentum = a.f("momentum", 0.9f);
  return [eps, momentum](const In& in) {
    return std::vector<at::Tensor>{at::batch_norm(in[0], in[1], in[2], in[3], in[4],
                                                  /*training=*/false, momentum, eps,
                                                  /*cudnn_enabled=*/false)};
  };
}

// LayerNormalization (opset 17): normalized over the dimensions from `axis` on; the optional
// Mean and InvStdDev outputs (training) are refused.
Body layer_norm(const Site& s) {
  const Attrs a(s);
  const int64_t axis = a.i("axis", -1);
  const double eps = a.f("epsilon", 1e-5f);
  for (size_t k = 1; k < s.outputs.size(); ++k)
    if (s.outputs[k]) refuse(s, "its Mean and InvStdDev outputs are not made (inference only)");
  return [axis, eps](const In& in) {
    const at::Tensor& x = in[0];
    const int64_t first = axis < 0 ? axis + x.dim() : axis;
    TORCH_CHECK(first >= 0 && first < x.dim(), "axis ", axis, " out of range");
    const std::vector<int64_t> shape(x.sizes().begin() + first, x.sizes().end());
    const c10::optional<at::Tensor> bias =
        in.has(2) ? c10::optional<at::Tensor>(in[2]) : c10::optional<at::Tensor>();
    return std::vector<at::Tensor>{at::layer_norm(x, shape, in[1], bias, eps)};
  };
}

Body leaky_relu(const Site& s) {
  const double alpha = Attrs(s).f("alpha", 0.01f);
  return [alpha](const In& in) { return std::vector<at::Tensor>{at::leaky_relu(in[0], alpha)}; };
}

Body hard_sigmoid(const Site& s) {
  const Attrs a(s);
  const double alpha = a.f("alpha", 0.2f), beta = a.f("beta", 0.5f);
  return [alpha, beta](const In& in) {
    return std::vector<at::Tensor>{at::clamp(at::add(at::mul(in[0], alpha), beta), 0, 1)};
  };
}

Body gelu(const Site& s) {
  const std::string approximate = Attrs(s).s("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    refuse(s, "approximate '" + approximate + "' is not an ONNX value");
  return
      [approximate](const In& in) { return std::vector<at::Tensor>{at::gelu(in[0], approximate)}; };
}

Body clip(const Site&) {
  return [](const In& in) {
    const auto bound = [&](size_t i) {
      return in.has(i) ? c10::optional<at::Tensor>(in[i]) : c10::optional<at::Tensor>();
    };
    return std::vector<at::Tensor>{at::clamp(in[0], bound(1), bound(2))};
  };
}

Body divide(const Site&) {
  return [](const In& in) {
    const at::Tensor& a = in[0];
    const at::Tensor& b = in[1];
    // Integer division truncates in ONNX (as in C); ATen's default is true division.
    if (at::isIntegralType(a.scalar_type(), true) && at::isIntegralType(b.scalar_type(), true))
      return std::vector<at::Tensor>{at::div(a, b, "trunc")};
    return std::vector<at::Tensor>{at::div(a, b)};
  };
}

Body power(const Site&) {
  return [](const In& in) {
    const at::Tensor& x = in[0];
    return std::vector<at::Tensor>{at::pow(x, in[1]).to(x.scalar_type())};  // Y has X's type
  };
}

Body max_pool(const Site& s) {
  const Attrs a(s);
  const Window w = Window::read(s, a);
  const Ints kernel = a.ints("kernel_shape");
  const bool ceil_mode = a.i("ceil_mode", 0) != 0;
  if (kernel.empty() || kernel.size() > kMaxSpatial) refuse(s, "kernel_shape needs 1 to 3 sizes");
  if (s.outputs.size() > 1 && s.outputs[1]) refuse(s, "the Indices output is not run");
  return [w, kernel, ceil_mode](const In& in) {
    at::Tensor x = in[0];  // [N, C, *spatial]
    const size_t n = spatial_dims(x, "MaxPool");
    if (n != kernel.size()) throw std::runtime_error("MaxPool kernel_shape differs from input");
    auto [begin, end] = w.padding(x.sizes().slice(2), kernel);
    bool native = symmetric(begin, end);
    for (size_t i = 0; i < n; ++i) native = native && begin[i] <= kernel[i] / 2;
    if (!native) {  // padding ATen's pools do not take: -inf around the input
      x = at::constant_pad_nd(x, torch_pads(begin, end), -std::numeric_limits<double>::infinity());
      begin.assign(n, 0);
    }
    const Ints st = per_dim(w.strides, n, 1, "strides"),
               d = per_dim(w.dilations, n, 1, "dilations");
    at::Tensor y;  // [N, C, *out]
    if (n == 1) y = at::max_pool1d(x, kernel, st, begin, d, ceil_mode);
    if (n == 2) y = at::max_pool2d(x, kernel, st, begin, d, ceil_mode);
    if (n == 3) y = at::max_pool3d(x, kernel, st, begin, d, ceil_mode);
    return std::vector<at::Tensor>{y};
  };
}

at::Tensor avg_pool_nd(const at::Tensor& x, const Ints& k, const Ints& s, const Ints& p, bool ceil,
                       bool include_pad) {
  if (k.size() == 1) return at::avg_pool1d(x, k, s, p, ceil, include_pad);
  if (k.size() == 2) return at::avg_pool2d(x, k, s, p, ceil, include_pad);
  return at::avg_pool3d(x, k, s, p, ceil, include_pad);
}

Body average_pool(const Site& s) {
  const Attrs a(s);
  const Window w = Window::read(s, a);
  const Ints kernel = a.ints("kernel_shape");
  const bool ceil_mode = a.i("ceil_mode", 0) != 0;
  const bool include_pad = a.i("count_include_pad", 0) != 0;
  if (kernel.empty() || kernel.size() > kMaxSpatial) refuse(s, "kernel_shape needs 1 to 3 sizes");
  for (int64_t d : w.dilations)
    if (d != 1) refuse(s, "dilations other than 1 are not run");
  return [w, kernel, ceil_mode, include_pad](const In& in) {
    at::Tensor x = in[0];  // [N, C, *spatial]
    const size_t n = spatial_dims(x, "AveragePool");
    if (n != kernel.size()) throw std::runtime_error("AveragePool kernel_shape differs from input");
    const Ints st = per_dim(w.strides, n, 1, "strides");
    auto [begin, end] = w.padding(x.sizes().slice(2), kernel);
    bool native = symmetric(begin, end);
    for (size_t i = 0; i < n; ++i) native = native && begin[i] <= kernel[i] / 2;
    if (native)
      return std::vector<at::Tensor>{
          avg_pool_nd(x, kernel, st, begin, ceil_mode, include_pad)};  // [N, C, *out]
    const Ints pads = torch_pads(begin, end);
    const Ints zero(n, 0);
    at::Tensor sum =
        avg_pool_nd(at::constant_pad_nd(x, pads, 0), kernel, st, zero, ceil_mode, true);
    if (include_pad) return std::vector<at::Tensor>{sum};
    // Not counting the padding: the mean over the window divided by the input's share of it.
    Ints ones_shape(x.sizes().begin(), x.sizes().end());
    ones_shape[0] = ones_shape[1] = 1;
    const at::Tensor ones = at::ones(ones_shape, x.options());  // [1, 1, *spatial]
    const at::Tensor share =
        avg_pool_nd(at::constant_pad_nd(ones, pads, 0), kernel, st, zero, ceil_mode, true);
    return std::vector<at::Tensor>{at::div(sum, share)};  // [N, C, *out]
  };
}

Body global_average_pool(const Site&) {
  return [](const In& in) {
    const at::Tensor& x = in[0];  // [N, C, *spatial]
    spatial_dims(x, "GlobalAveragePool");
    Ints dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return std::vector<at::Tensor>{at::mean(x, dims, /*keepdim=*/true)};  // [N, C, 1, ...]
  };
}

Body gemm(const Site& s) {
  const Attrs a(s);
  const double alpha = a.f("alpha", 1.0f), beta = a.f("beta", 1.0f);
  const bool trans_a = a.i("transA", 0) != 0, trans_b = a.i("transB", 0) != 0;
  return [alpha, beta, trans_a, trans_b](const In& in) {
    if (in[0].dim() != 2 || in[1].dim() != 2) throw std::runtime_error("Gemm needs 2-D A and B");
    const at::Tensor a = trans_a ? in[0].t() : in[0];                                    // [M, K]
    const at::Tensor b = trans_b ? in[1].t() : in[1];                                    // [K, N]
    if (in.has(2)) return std::vector<at::Tensor>{at::addmm(in[2], a, b, beta, alpha)};  // [M, N]
    at::Tensor y = at::mm(a, b);                                                         // [M, N]
    return std::vector<at::Tensor>{alpha == 1.0 ? y : at::mul(y, alpha)};
  };
}

Body flatten(const Site& s) {
  const int64_t axis = Attrs(s).i("axis", 1);
  return [axis](const In& in) {
    const at::Tensor& x = in[0];
    const int64_t r = x.dim();
    if (axis < -r || axis > r) throw std::runtime_error("Flatten axis out of range");
    const int64_t split = axis < 0 ? axis + r : axis;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < r; ++d) (d < split ? outer : inner) *= x.size(d);
    return std::vector<at::Tensor>{at::reshape(x, {outer, inner})};  // [outer, inner]
  };
}

Body reshape(const Site& s) {
  const bool allow_zero = Attrs(s).i("allowzero", 0) != 0;
  return [allow_zero](const In& in) {
    const at::Tensor& x = in[0];
    Ints shape = ints_of(in[1], "Reshape's shape");
    for (size_t i = 0; i < shape.size() && !allow_zero; ++i)
      if (shape[i] == 0) {  // 0 copies the input's size there
        if (static_cast<int64_t>(i) >= x.dim()) throw std::runtime_error("Reshape 0 past rank");
        shape[i] = x.size(static_cast<int64_t>(i));
      }
    return std::vector<at::Tensor>{at::reshape(x, shape)};
  };
}

Body transpose(const Site& s) {
  const Ints perm = Attrs(s).ints("perm");
  return [perm](const In& in) {
    const at::Tensor& x = in[0];
    Ints p = perm;
    if (p.empty())
      for (int64_t d = x.dim(); d-- > 0;) p.push_back(d);  // default: reversed
    return std::vector<at::Tensor>{at::permute(x, p)};
  };
}

// Axes from the attribute (before `input_from`) or from input 1 (from `input_from` on).
std::function<Ints(const In&)> axes_source(const Site& s, int64_t input_from) {
  if (s.opset < input_from) {
    const Ints axes = Attrs(s).ints("axes");
    return [axes](const In&) { return axes; };
  }
  return [](const In& in) { return in.has(1) ? ints_of(in[1], "axes") : Ints(); };
}

Body squeeze(const Site& s) {
  const auto axes_of = axes_source(s, 13);
  return [axes_of](const In& in) {
    at::Tensor x = in[0];
    const Ints given = axes_of(in);
    if (given.empty()) return std::vector<at::Tensor>{at::squeeze(x)};
    Ints axes;
    for (int64_t a : given) axes.push_back(axis_in(a, x.dim()));
    std::sort(axes.rbegin(), axes.rend());
    for (int64_t a : axes) {
      if (x.size(a) != 1) throw std::runtime_error("Squeeze of a dim whose size is not 1");
      x = at::squeeze(x, a);
    }
    return std::vector<at::Tensor>{x};
  };
}

Body unsqueeze(const Site& s) {
  const auto axes_of = axes_source(s, 13);
  return [axes_of](const In& in) {
    at::Tensor x = in[0];
    const Ints given = axes_of(in);
    const int64_t rank = x.dim() + static_cast<int64_t>(given.size());
    Ints axes;
    for (int64_t a : given) axes.push_back(axis_in(a, rank));
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
      throw std::runtime_error("Unsqueeze axes repeat");
    for (int64_t a : axes) x = at::unsqueeze(x, a);
    return std::vector<at::Tensor>{x};
  };
}

Body concat(const Site& s) {
  const Attrs a(s);
  if (!a.has("axis")) refuse(s, "the axis attribute is missing");
  const int64_t axis = a.i("axis", 0);
  return [axis](const In& in) {
    std::vector<at::Tensor> parts;
    for (size_t i = 0; i < in.size(); ++i) parts.push_back(in[i]);
    return std::vector<at::Tensor>{at::cat(parts, axis)};
  };
}

Body split(const Site& s) {
  const Attrs a(s);
  const int64_t axis = a.i("axis", 0);
  const int64_t count = static_cast<int64_t>(s.outputs.size());
  if (count == 0) refuse(s, "it names no outputs");
  const Ints sizes_attr = s.opset < 13 ? a.ints("split") : Ints();
  const bool from_input = s.opset >= 13;
  return [axis, count, sizes_attr, from_input](const In& in) {
    const at::Tensor& x = in[0];
    const int64_t dim = axis_in(axis, x.dim());
    const Ints sizes = from_input && in.has(1) ? ints_of(in[1], "Split's split") : sizes_attr;
    if (!sizes.empty()) {
      if (static_cast<int64_t>(sizes.size()) != count)
        throw std::runtime_error("Split sizes do not match its outputs");
      return at::split_with_sizes(x, sizes, dim);
    }
    // Equal parts; from opset 18 (num_outputs) the last may be smaller.
    const int64_t part = (x.size(dim) + count - 1) / count;
    std::vector<at::Tensor> parts = at::split(x, std::max<int64_t>(part, 1), dim);
    if (static_cast<int64_t>(parts.size()) != count)
      throw std::runtime_error("Split cannot make " + std::to_string(count) + " parts of size " +
                               std::to_string(x.size(dim)));
    return parts;
  };
}

Body slice(const Site&) {
  return [](const In& in) {
    at::Tensor x = in[0];
    const Ints starts = ints_of(in[1], "Slice's starts"), ends = ints_of(in[2], "Slice's ends");
    Ints axes = in.has(3) ? ints_of(in[3], "Slice's axes") : Ints();
    Ints steps = in.has(4) ? ints_of(in[4], "Slice's steps") : Ints();
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      throw std::runtime_error("Slice's starts, ends, axes and steps differ in length");
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t axis = axis_in(axes[i], x.dim()), dim = x.size(axis), step = steps[i];
      if (step == 0) throw std::runtime_error("Slice step 0");
      int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
      int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
      if (step > 0) {
        b = std::clamp<int64_t>(b, 0, dim);
        e = std::clamp<int64_t>(e, b, dim);
        x = at::slice(x, axis, b, e, step);
      } else {  // ATen slices forwards only: the indices counted down, gathered
        b = std::clamp<int64_t>(b, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        const at::Tensor index =
            b > e ? at::arange(b, e, step, at::kLong) : at::empty({0}, at::kLong);  // [m]
        x = at::index_select(x, axis, index);
      }
    }
    return std::vector<at::Tensor>{x};
  };
}

Body gather(const Site& s) {
  const int64_t axis_attr = Attrs(s).i("axis", 0);
  return [axis_attr](const In& in) {
    const at::Tensor& data = in[0];
    const at::Tensor& indices = in[1];
    if (!at::isIntegralType(indices.scalar_type(), false))
      throw std::runtime_error("Gather indices must be integers");
    const int64_t axis = axis_in(axis_attr, data.dim());
    at::Tensor index = indices.to(at::kLong).reshape({-1});  // [m]
    index = at::where(index < 0, index + data.size(axis), index);
    Ints shape(data.sizes().begin(), data.sizes().begin() + axis);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), data.sizes().begin() + axis + 1, data.sizes().end());
    return std::vector<at::Tensor>{at::index_select(data, axis, index).reshape(shape)};
  };
}

Body shape(const Site& s) {
  const Attrs a(s);
  const int64_t start = a.i("start", 0);
  const bool has_end = a.has("end");
  const int64_t end_attr = a.i("end", 0);
  return [start, has_end, end_attr](const In& in) {
    const int64_t r = in[0].dim();
    const auto clamp = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
    const int64_t b = clamp(start), e = has_end ? clamp(end_attr) : r;
    const at::IntArrayRef sizes = in[0].sizes();
    return std::vector<at::Tensor>{
        long_tensor(b < e ? Ints(sizes.begin() + b, sizes.begin() + e) : Ints())};  // [e - b]
  };
}

Body constant(const Site& s) {
  const Attrs a(s);
  at::Tensor value;
  if (const onnx::TensorProto* t = a.tensor("value")) {
    value = onnx_tensor(s.model, *t);
  } else if (a.has("value_float")) {
    value = at::scalar_tensor(a.f("value_float", 0), at::kFloat);
  } else if (a.has("value_int")) {
    value = at::scalar_tensor(a.i("value_int", 0), at::kLong);
  } else if (a.has("value_ints")) {
    value = long_tensor(a.ints("value_ints"));
  } else if (a.has("value_floats")) {
    const std::vector<float> f = a.floats("value_floats");
    value = at::empty({static_cast<int64_t>(f.size())}, at::kFloat);  // [n]
    if (!f.empty()) std::memcpy(value.data_ptr(), f.data(), f.size() * sizeof(float));
  } else {
    refuse(s, "only tensor, float and int values are run (not sparse tensors or strings)");
  }
  return [value](const In&) { return std::vector<at::Tensor>{value}; };
}

Body constant_of_shape(const Site& s) {
  at::Tensor value = at::zeros({}, at::kFloat);
  if (const onnx::TensorProto* t = Attrs(s).tensor("value")) {
    value = onnx_tensor(s.model, *t);
    if (value.numel() != 1) refuse(s, "value must hold one element");
    value = value.reshape({});
  }
  return [value](const In& in) {
    return std::vector<at::Tensor>{
        at::full(ints_of(in[0], "ConstantOfShape's input"), value.item(), value.options())};
  };
}

Body expand(const Site&) {
  return [](const In& in) {
    const at::Tensor& x = in[0];
    const Ints shape = at::infer_size(x.sizes(), ints_of(in[1], "Expand's shape"));
    return std::vector<at::Tensor>{x.expand(shape)};
  };
}

// ReduceMean and ReduceSum: `axes_input_from` is the opset where axes became an input.
Body reduce(const Site& s, int64_t axes_input_from, bool mean) {
  const Attrs a(s);
  const bool keepdims = a.i("keepdims", 1) != 0;
  const bool noop_empty = a.i("noop_with_empty_axes", 0) != 0;
  const auto axes_of = axes_source(s, axes_input_from);
  return [keepdims, noop_empty, axes_of, mean](const In& in) {
    const at::Tensor& x = in[0];
    Ints axes;
    for (int64_t axis : axes_of(in)) axes.push_back(axis_in(axis, x.dim()));
    if (axes.empty()) {
      if (noop_empty) return std::vector<at::Tensor>{x};
      for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
    }
    if (mean) return std::vector<at::Tensor>{at::mean(x, axes, keepdims)};
    return std::vector<at::Tensor>{at::sum(x, axes, keepdims).to(x.scalar_type())};
  };
}

Body reduce_mean(const Site& s) {
  return reduce(s, 18, true);
}
Body reduce_sum(const Site& s) {
  return reduce(s, 13, false);
}

Body softmax(const Site& s) {
  const bool coerce = s.opset < 13;  // before 13: over the 2-D [outer, inner] view
  const int64_t axis = Attrs(s).i("axis", coerce ? 1 : -1);
  return [axis, coerce](const In& in) {
    const at::Tensor& x = in[0];
    const int64_t a = axis_in(axis, x.dim());
    if (!coerce) return std::vector<at::Tensor>{at::softmax(x, a)};
    int64_t outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.size(d);
    const at::Tensor flat = x.reshape({outer, -1});  // [outer, inner]
    return std::vector<at::Tensor>{at::softmax(flat, 1).reshape(x.sizes())};
  };
}

Body pad(const Site& s) {
  const std::string mode = Attrs(s).s("mode", "constant");
  std::string torch_mode;
  if (mode == "reflect") torch_mode = "reflect";
  if (mode == "edge") torch_mode = "replicate";
  if (mode == "wrap") torch_mode = "circular";
  if (mode != "constant" && torch_mode.empty()) refuse(s, "mode '" + mode + "' is not run");
  return [torch_mode](const In& in) {
    const at::Tensor& x = in[0];
    const int64_t r = x.dim();
    const Ints given = ints_of(in[1], "Pad's pads");
    Ints axes;
    if (in.has(3))
      for (int64_t a : ints_of(in[3], "Pad's axes")) axes.push_back(axis_in(a, r));
    else
      for (int64_t d = 0; d < r; ++d) axes.push_back(d);
    if (given.size() != 2 * axes.size())
      throw std::runtime_error("Pad's pads need two entries per axis");
    Ints begin(static_cast<size_t>(r), 0), end(static_cast<size_t>(r), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      begin[static_cast<size_t>(axes[i])] = given[i];
      end[static_cast<size_t>(axes[i])] = given[axes.size() + i];
    }
    Ints list = torch_pads(begin, end);  // last dim first
    while (!list.empty() && list[list.size() - 1] == 0 && list[list.size() - 2] == 0)
      list.resize(list.size() - 2);  // leading dims without padding
    if (torch_mode.empty()) {
      const at::Scalar value =
          in.has(2) && in[2].numel() > 0 ? in[2].reshape({-1})[0].item() : at::Scalar(0);
      return std::vector<at::Tensor>{at::constant_pad_nd(x, list, value)};
    }
    return std::vector<at::Tensor>{at::pad(x, list, torch_mode)};
  };
}

Body resize(const Site& s) {
  const Attrs a(s);
  const std::string mode = a.s("mode", "nearest");
  const std::string coord = a.s("coordinate_transformation_mode", "half_pixel");
  const std::string nearest = a.s("nearest_mode", "round_prefer_floor");
  if (mode != "nearest" && mode != "linear") refuse(s, "mode '" + mode + "' is not run");
  if (a.i("antialias", 0) != 0) refuse(s, "antialias is not run");
  if (a.s("keep_aspect_ratio_policy", "stretch") != "stretch")
    refuse(s, "keep_aspect_ratio_policy other than 'stretch' is not run");
  const bool linear_ok =
      coord == "half_pixel" || coord == "pytorch_half_pixel" || coord == "align_corners";
  const bool nearest_ok = linear_ok || coord == "asymmetric" || coord == "tf_half_pixel_for_nn";
  if (!(mode == "linear" ? linear_ok : nearest_ok))
    refuse(s, "mode '" + mode + "' with coordinate_transformation_mode '" + coord + "' is not run");
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" && nearest != "floor" &&
      nearest != "ceil")
    refuse(s, "nearest_mode '" + nearest + "' is not an ONNX value");
  const Ints axes_attr = a.ints("axes");
  return [mode, coord, nearest, axes_attr](const In& in) {
    at::Tensor x = in[0];  // [N, C, *spatial]
    const int64_t r = x.dim();
    Ints axes = axes_attr;
    for (int64_t& axis : axes) axis = axis_in(axis, r);
    if (axes.empty())
      for (int64_t d = 0; d < r; ++d) axes.push_back(d);
    // Per dim: the output size and the scale (output / input as ONNX computes it).
    Ints out(x.sizes().begin(), x.sizes().end());
    std::vector<float> scale(static_cast<size_t>(r), 1.0f);
    const bool by_sizes = in.has(3) && in[3].numel() > 0;
    if (by_sizes) {
      const Ints sizes = ints_of(in[3], "Resize's sizes");
      if (sizes.size() != axes.size()) throw std::runtime_error("Resize sizes differ from axes");
      for (size_t i = 0; i < axes.size(); ++i) {
        const size_t d = static_cast<size_t>(axes[i]);
        out[d] = sizes[i];
        scale[d] = static_cast<float>(sizes[i]) / static_cast<float>(x.size(axes[i]));
      }
    } else if (in.has(2) && in[2].numel() > 0) {
      const std::vector<float> scales = floats_of(in[2], "Resize's scales");
      if (scales.size() != axes.size()) throw std::runtime_error("Resize scales differ from axes");
      for (size_t i = 0; i < axes.size(); ++i) {
        const size_t d = static_cast<size_t>(axes[i]);
        if (!(scales[i] > 0)) throw std::runtime_error("Resize scales must be positive");
        scale[d] = scales[i];
        out[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.size(axes[i])) * scales[i]));
      }
    } else {
      throw std::runtime_error("Resize needs scales or sizes");
    }
    if (r < 3 || out[0] != x.size(0) || out[1] != x.size(1))
      throw std::runtime_error("Resize runs over the spatial dims of [N, C, ...] only");
    if (mode == "linear") {
      const bool corners = coord == "align_corners";
      const auto sc = [&](size_t d) {
        return by_sizes ? c10::optional<double>() : c10::optional<double>(scale[d]);
      };
      if (r == 3)
        return std::vector<at::Tensor>{at::upsample_linear1d(x, {out[2]}, corners, sc(2))};
      if (r == 4)
        return std::vector<at::Tensor>{
            at::upsample_bilinear2d(x, {out[2], out[3]}, corners, sc(2), sc(3))};
      if (r == 5)
        return std::vector<at::Tensor>{
            at::upsample_trilinear3d(x, {out[2], out[3], out[4]}, corners, sc(2), sc(3), sc(4))};
      throw std::runtime_error("Resize linear runs on 1 to 3 spatial dims");
    }
    // Nearest: per resized dim, each output position's source index as Operators.md computes
    // it (in float32, as onnxruntime does), rounded by nearest_mode, clamped into the input.
    for (int64_t d = 2; d < r; ++d) {
      const int64_t in_size = x.size(d), out_size = out[static_cast<size_t>(d)];
      const float sc = scale[static_cast<size_t>(d)];
      if (in_size == out_size && sc == 1.0f) continue;
      const at::Tensor pos = at::arange(out_size, at::kFloat);  // [out]
      at::Tensor src;                                           // [out]
      if (coord == "asymmetric") {
        src = pos / sc;
      } else if (coord == "tf_half_pixel_for_nn") {
        src = (pos + 0.5) / sc;
      } else if (coord == "align_corners") {
        src = out_size == 1
                  ? at::zeros_like(pos)
                  : pos * static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1);
      } else if (coord == "pytorch_half_pixel" && out_size == 1) {
        src = at::zeros_like(pos);
      } else {
        src = (pos + 0.5) / sc - 0.5;
      }
      if (nearest == "round_prefer_floor") src = at::ceil(src - 0.5);
      if (nearest == "round_prefer_ceil") src = at::floor(src + 0.5);
      if (nearest == "floor") src = at::floor(src);
      if (nearest == "ceil") src = at::ceil(src);
      x = at::index_select(x, d, at::clamp(src, 0, in_size - 1).to(at::kLong));
    }
    return std::vector<at::Tensor>{x};  // [N, C, *out]
  };
}

Body dropout(const Site&) {
  return [](const In& in) {
    if (in.has(2) && in[2].numel() == 1 && in[2].reshape({-1})[0].item<bool>())
      throw std::runtime_error("Dropout in training mode is not run");
    const at::Tensor& x = in[0];
    return std::vector<at::Tensor>{x, at::ones_like(x, at::kBool)};  // output, mask
  };
}

Body cast(const Site& s) {
  const Attrs a(s);
  if (!a.has("to")) refuse(s, "the 'to' attribute is missing");
  const std::optional<at::ScalarType> to = onnx_scalar_type(static_cast<int32_t>(a.i("to", 0)));
  if (!to) refuse(s, "cast to ONNX type " + std::to_string(a.i("to", 0)) + " is not run");
  const at::ScalarType dtype = *to;
  return [dtype](const In& in) { return std::vector<at::Tensor>{in[0].to(dtype)}; };
}

Body identity(const Site&) {
  return [](const In& in) { return std::vector<at::Tensor>{in[0]}; };
}

at::Tensor relu(const at::Tensor& x) {
  return at::relu(x);
}
at::Tensor sigmoid(const at::Tensor& x) {
  return at::sigmoid(x);
}
at::Tensor hardswish(const at::Tensor& x) {
  return at::hardswish(x);
}
at::Tensor tanh_(const at::Tensor& x) {
  return at::tanh(x);
}
at::Tensor erf(const at::Tensor& x) {
  return at::erf(x);
}
at::Tensor sqrt(const at::Tensor& x) {
  return at::sqrt(x);
}
at::Tensor add(const at::Tensor& a, const at::Tensor& b) {
  return at::add(a, b);
}
at::Tensor sub(const at::Tensor& a, const at::Tensor& b) {
  return at::sub(a, b);
}
at::Tensor mul(const at::Tensor& a, const at::Tensor& b) {
  return at::mul(a, b);
}
at::Tensor matmul(const at::Tensor& a, const at::Tensor& b) {
  return at::matmul(a, b);
}

struct Op {
  const char* name;
  int outputs;  // how many it makes; -1: as many as the node names (Split)
  std::function<Body(const Site&)> make;
};

const std::vector<Op>& table() {
  static const std::vector<Op> ops = {
      {"Conv", 1, conv},
      {"ConvTranspose", 1, conv_transpose},
      {"BatchNormalization", 1, batch_norm},
      {"LayerNormalization", 1, layer_norm},
      {"Relu", 1, [](const Site&) { return unary(relu); }},
      {"LeakyRelu", 1, leaky_relu},
      {"Clip", 1, clip},
      {"Sigmoid", 1, [](const Site&) { return unary(sigmoid); }},
      {"HardSigmoid", 1, hard_sigmoid},
      {"HardSwish", 1, [](const Site&) { return unary(hardswish); }},
      {"Tanh", 1, [](const Site&) { return unary(tanh_); }},
      {"Erf", 1, [](const Site&) { return unary(erf); }},
      {"Sqrt", 1, [](const Site&) { return unary(sqrt); }},
      {"Gelu", 1, gelu},
      {"Add", 1, [](const Site&) { return binary(add); }},
      {"Sub", 1, [](const Site&) { return binary(sub); }},
      {"Mul", 1, [](const Site&) { return binary(mul); }},
      {"Div", 1, divide},
      {"Pow", 1, power},
      {"MaxPool", 1, max_pool},
      {"AveragePool", 1, average_pool},
      {"GlobalAveragePool", 1, global_average_pool},
      {"Gemm", 1, gemm},
      {"MatMul", 1, [](const Site&) { return binary(matmul); }},
      {"Flatten", 1, flatten},
      {"Reshape", 1, reshape},
      {"Transpose", 1, transpose},
      {"Squeeze", 1, squeeze},
      {"Unsqueeze", 1, unsqueeze},
      {"Concat", 1, concat},
      {"Split", -1, split},
      {"Slice", 1, slice},
      {"Gather", 1, gather},
      {"Shape", 1, shape},
      {"Constant", 1, constant},
      {"ConstantOfShape", 1, constant_of_shape},
      {"Expand", 1, expand},
      {"ReduceMean", 1, reduce_mean},
      {"ReduceSum", 1, reduce_sum},
      {"Softmax", 1, softmax},
      {"Pad", 1, pad},
      {"Resize", 1, resize},
      {"Dropout", 2, dropout},
      {"Identity", 1, identity},
      {"Cast", 1, cast},
  };
  return ops;
}

const Op* find(const std::string& op_type) {
  for (const Op& op : table())
    if (op_type == op.name) return &op;
  return nullptr;
}

}  // namespace

bool known(const std::string& op_type) {
  return find(op_type) != nullptr;
}

Kernel make_kernel(const Site& site) {
  const Op* op = find(site.node.op_type());
  if (!op) throw Refused(site.label + " is not one of the ONNX operators cnnscope runs");
  if (op->outputs >= 0)
    for (size_t i = static_cast<size_t>(op->outputs); i < site.outputs.size(); ++i)
      if (site.outputs[i])
        throw Refused(site.label + ": output " + std::to_string(i) + " is not run");
  Body body = op->make(site);
  return [body = std::move(body), slots = site.slots,
          present = site.outputs](std::vector<c10::IValue>& args) {
    std::vector<at::Tensor> made = body(In(args, slots));
    std::vector<c10::IValue> out;
    for (size_t i = 0; i < present.size(); ++i) {
      if (!present[i]) continue;
      if (i >= made.size()) throw std::runtime_error("an output is missing");
      out.emplace_back(std::move(made[i]));
    }
    return out;
  };
}

}  // namespace cnnscope::graph::onnx_ops
