// numpy values in a pickle (pickle_numpy.h): dtype codes, a scalar's bytes, an ndarray's state
// checked against its shape, and the Unpickler's numpy.core.multiarray.scalar rebuild. Leaves out
// complex, datetime and string dtypes (kept as opaque objects) and printing (pickle_repr.cpp).
// Spec: numpy's multiarray.scalar/_reconstruct, ndarray.__setstate__ and dtype.__reduce__.
#include "checkpoint/pickle_numpy.h"

#include <c10/util/Half.h>

#include <cstdlib>
#include <cstring>

namespace cnnscope::pickle {

std::string numpy_type(char kind, size_t size) {
  switch (kind) {
    case 'f':
      return size == 2 || size == 4 || size == 8 ? "float" + std::to_string(size * 8) : "";
    case 'i':
    case 'u':
      return size == 1 || size == 2 || size == 4 || size == 8
                 ? std::string(kind == 'u' ? "uint" : "int") + std::to_string(size * 8)
                 : "";
    case 'b':
      return size == 1 ? "bool" : "";
    default:
      return "";
  }
}

bool numpy_dtype(const Value& dtype, char& kind, size_t& size, bool& big_endian) {
  if (dtype.kind != Kind::Object || dtype.s != "numpy.dtype" || dtype.items.empty() ||
      dtype.items[0]->kind != Kind::Str)
    return false;
  const std::string& code = dtype.items[0]->s;
  if (code.size() < 2 || code.size() > 3) return false;
  kind = code[0];
  size = static_cast<size_t>(std::atoi(code.c_str() + 1));
  big_endian = false;
  if (dtype.state && dtype.state->kind == Kind::Tuple && dtype.state->items.size() > 1 &&
      dtype.state->items[1]->kind == Kind::Str)
    big_endian = dtype.state->items[1]->s == ">";
  return !numpy_type(kind, size).empty();
}

void numpy_number(char kind, size_t size, bool big_endian, const char* p, Value& out) {
  uint64_t bits = 0;
  for (size_t k = 0; k < size; ++k) {
    const size_t at = big_endian ? k : size - 1 - k;
    bits = (bits << 8) | static_cast<uint8_t>(p[at]);
  }
  out.numpy = numpy_type(kind, size);
  if (kind == 'b') {
    out.kind = Kind::Bool;
    out.i = bits != 0;
  } else if (kind == 'f') {
    out.kind = Kind::Float;
    if (size == 8) {
      std::memcpy(&out.f, &bits, 8);
    } else if (size == 4) {
      const auto b32 = static_cast<uint32_t>(bits);
      float f = 0;
      std::memcpy(&f, &b32, 4);
      out.f = f;
    } else {
      out.f = static_cast<float>(c10::Half(static_cast<uint16_t>(bits), c10::Half::from_bits()));
    }
  } else {
    out.kind = Kind::Int;
    if (kind == 'i' && size < 8 && (bits >> (size * 8 - 1)) & 1)
      bits |= ~uint64_t{0} << (size * 8);  // sign-extend
    out.i = static_cast<int64_t>(bits);
    if (kind == 'u' && size == 8 && static_cast<int64_t>(bits) < 0) {
      out.kind = Kind::Float;  // above int64: kept as its nearest double
      out.f = static_cast<double>(bits);
    }
  }
}

bool numpy_array(const Value& array, NumpyArray& out) {
  const Value* st = array.state;
  if (!st || st->kind != Kind::Tuple || st->items.size() != 5) return false;
  if (!as_int_list(*st->items[1], out.shape) ||
      !numpy_dtype(*st->items[2], out.kind, out.size, out.big_endian) ||
      st->items[4]->kind != Kind::Bytes || out.shape.size() > kMaxDims)
    return false;
  uint64_t total = 1;
  for (int64_t d : out.shape)
    if (d < 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total)) return false;
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(total, out.size, &nbytes) || nbytes != st->items[4]->s.size())
    return false;
  const bool fortran = st->items[3]->kind == Kind::Bool && st->items[3]->i;
  out.strides.assign(out.shape.size(), 1);
  for (size_t d = 0; d < out.shape.size(); ++d)
    for (size_t e = 0; e < out.shape.size(); ++e)
      if (fortran ? e < d : e > d) out.strides[d] *= static_cast<uint64_t>(out.shape[e]);
  out.raw = st->items[4]->s.data();
  return true;
}

Value* Unpickler::numpy_scalar(const std::vector<Value*>& a) {
  // scalar(dtype, bytes): the bytes of one value of that dtype.
  char kind = 0;
  size_t size = 0;
  bool big = false;
  if (a.size() != 2 || (a[1]->kind != Kind::Bytes && a[1]->kind != Kind::Str))
    bad("numpy scalar expects (dtype, bytes)");
  if (!numpy_dtype(*a[0], kind, size, big)) {
    Value* other = make(Kind::Object);  // complex, datetime, strings: shown by type only
    other->s = "numpy scalar";
    return other;
  }
  if (a[1]->s.size() != size)
    bad("numpy scalar of " + std::to_string(size) + " bytes holds " +
        std::to_string(a[1]->s.size()));
  Value* v = make(Kind::Int);
  numpy_number(kind, size, big, a[1]->s.data(), *v);
  return v;
}

}  // namespace cnnscope::pickle
