// Python-like text of unpickled values (pickle.h's repr): plain values as Python's repr, numpy
// scalars, dtypes and small arrays as numpy 2 prints them, everything bounded in depth, items and
// characters. Leaves out tensors' values (shown as <tensor>) and dicts' contents.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include <c10/util/Half.h>

#include "checkpoint/pickle.h"
#include "checkpoint/pickle_numpy.h"
#include "common/text.h"

namespace cnnscope::pickle {
namespace {

constexpr int kReprDepth = 3;
constexpr size_t kReprItems = 8;
constexpr size_t kReprChars = 256;  // a longer string shows its start and its length

// Text of a numeric value: Python's repr, float32 at float32's shortest digits.
std::string number_text(const Value& v) {
  if (v.kind == Kind::Bool) return v.i ? "True" : "False";
  if (v.kind == Kind::Int) return std::to_string(v.i);
  if (v.numpy == "float32") return py_float32(static_cast<float>(v.f));
  if (v.numpy == "float16" && std::isfinite(v.f)) {
    // The fewest digits that read back as the same float16, then Python's notation for them.
    const c10::Half h(static_cast<float>(v.f));
    for (int digits = 1; digits <= 5; ++digits) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v.f);
      const double back = std::strtod(buf, nullptr);
      if (c10::Half(static_cast<float>(back)).x == h.x) return py_float(back);
    }
  }
  return py_float(v.f);
}

// numpy's ndarray.__setstate__ state as "array([0.0, 1.0], dtype=float64)": values as
// ndarray.tolist() prints them, at most `max_items` per dimension; "" when the state is not a
// plain numeric array.
std::string numpy_array_text(const Value& array, size_t max_items) {
  NumpyArray a;
  if (!numpy_array(array, a)) return "";
  // Deeper arrays by shape only: kReprItems per dimension would print kReprItems^ndim numbers.
  if (a.shape.size() > static_cast<size_t>(kReprDepth))
    return "array(shape=" + shape_text(a.shape) + ", dtype=" + numpy_type(a.kind, a.size) + ")";
  std::function<std::string(size_t, uint64_t)> dim = [&](size_t d, uint64_t at) {
    if (d == a.shape.size()) {
      Value v;
      numpy_number(a.kind, a.size, a.big_endian, a.raw + at * a.size, v);
      return number_text(v);
    }
    std::string out = "[";
    const auto n = static_cast<uint64_t>(a.shape[d]);
    for (uint64_t k = 0; k < n && k < max_items; ++k)
      out += (k ? ", " : "") + dim(d + 1, at + k * a.strides[d]);
    if (n > max_items) out += ", ... (" + std::to_string(n) + " items)";
    return out + "]";
  };
  return "array(" + dim(0, 0) + ", dtype=" + numpy_type(a.kind, a.size) + ")";
}

}  // namespace

std::string repr(const Value& v, int depth) {
  auto seq = [&](const std::vector<Value*>& items, const char* open, const char* close) {
    std::string out = open;
    if (depth >= kReprDepth) return out + "..." + close;
    for (size_t k = 0; k < items.size() && k < kReprItems; ++k)
      out += (k ? ", " : "") + repr(*items[k], depth + 1);
    if (items.size() > kReprItems) out += ", ... (" + std::to_string(items.size()) + " items)";
    if (v.kind == Kind::Tuple && items.size() == 1) out += ",";
    return out + close;
  };
  switch (v.kind) {
    case Kind::None:
      return "None";
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
      if (v.numpy.empty()) return number_text(v);
      if (v.kind == Kind::Bool) return v.i ? "np.True_" : "np.False_";
      return "np." + v.numpy + "(" + number_text(v) + ")";
    case Kind::BigInt:
      return "<" + std::to_string(v.i) + "-byte int>";
    case Kind::Str:
      if (v.s.size() > kReprChars) {
        size_t cut = kReprChars;  // not inside a UTF-8 sequence
        while (cut > 0 && (static_cast<unsigned char>(v.s[cut]) & 0xc0) == 0x80) --cut;
        return "'" + v.s.substr(0, cut) + "...' (" + std::to_string(v.s.size()) + " bytes)";
      }
      return "'" + v.s + "'";
    case Kind::Bytes:
      return "<" + std::to_string(v.s.size()) + " bytes>";
    case Kind::Tuple:
      return seq(v.items, "(", ")");
    case Kind::List:
      return seq(v.items, "[", "]");
    case Kind::Set:
      return seq(v.items, "{", "}");
    case Kind::Dict:
      return "{" + std::string(v.entries.empty() ? "" : "...") + "}";
    case Kind::Global:
      return v.s;
    case Kind::Storage:
      return "<storage " + v.storage->key + ">";
    case Kind::Tensor:
      return "<tensor>";
    case Kind::Class:
      return "<class '" + v.s + "'>";
    case Kind::Object: {
      char kind = 0;
      size_t size = 0;
      bool big = false;
      if (v.s == "numpy.dtype" && numpy_dtype(v, kind, size, big))
        return "dtype('" + numpy_type(kind, size) + "')";
      if (v.s == "numpy.ndarray") {
        const std::string text = numpy_array_text(v, kReprItems);
        if (!text.empty()) return text;
      }
      return "<" + v.s + " object>";
    }
  }
  return "?";
}

}  // namespace cnnscope::pickle
