// What the restricted unpickler's files share about numpy values (pickle_numpy.cpp): dtype codes,
// scalars' bytes and ndarray.__setstate__ states decoded into numbers. Leaves out printing
// (pickle_repr.cpp) and anything but bool, int, uint and float dtypes. Spec: numpy's
// multiarray.scalar/_reconstruct and ndarray.__setstate__. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/pickle.h"

namespace cnnscope::pickle {

constexpr size_t kMaxDims = 64;  // of a tensor or a numpy array

// numpy's type name of a dtype code ("f8" -> "float64"), or "" for codes read here as no number.
std::string numpy_type(char kind, size_t size);

// A numpy dtype Object (numpy.dtype(code, align, copy), BUILD (version, byte order, ...)): its
// kind letter, item size and whether its bytes are big-endian; false when not a plain number.
bool numpy_dtype(const Value& dtype, char& kind, size_t& size, bool& big_endian);

// One number of numpy `kind`/`size` at `p` as a Bool/Int/Float value's fields.
void numpy_number(char kind, size_t size, bool big_endian, const char* p, Value& out);

// A numpy.ndarray Object's state, checked: its numbers are numpy_number(kind, size, big_endian,
// raw + (sum of index[d] * strides[d]) * size).
struct NumpyArray {
  std::vector<int64_t> shape;
  std::vector<uint64_t> strides;  // elements, C or Fortran order as the state says
  char kind = 0;
  size_t size = 0;  // bytes of one element
  bool big_endian = false;
  const char* raw = nullptr;  // the state's bytes (the Value owns them)
};

// ndarray.__setstate__'s state (version, shape, dtype, is_fortran, raw bytes) of `array` into
// `out`; false when it is not a plain numeric array whose bytes match its shape.
bool numpy_array(const Value& array, NumpyArray& out);

}  // namespace cnnscope::pickle
