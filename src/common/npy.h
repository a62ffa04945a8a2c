// numpy .npy files, the one home of npy I/O (in common/ so that image/ can read .npy inputs and
// later stages write arrays): write any tensor (atomically) and read one back, for `preprocess`,
// `features --npy` and `.npy` image inputs. Spec: numpy's NEP 1 / numpy.lib.format (1.0-3.0).
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace cnnscope {

// Writes `tensor` (any shape, made contiguous, C order) as a version 1.0 .npy file, atomically.
// dtypes: float32/64/16, int64/32/16/8, uint8, bool; bfloat16 (no numpy dtype) is written as
// float32.
void write_npy(const std::string& path, const at::Tensor& tensor);

// The bytes write_npy would write (header + data), for embedding in other outputs.
std::string npy_bytes(const at::Tensor& tensor);

// Reads a little-endian, C- or Fortran-order .npy file of the dtypes above into a CPU tensor of
// the file's shape and dtype. Throws Error naming the file on anything malformed or truncated.
at::Tensor read_npy(const std::string& path);

}  // namespace cnnscope
