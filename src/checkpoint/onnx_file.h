// ONNX model files (.onnx): the ModelProto parsed once with the ONNX project's own protobuf
// classes (Debian's libonnx-dev), its initializers read as named tensors (raw_data, the typed
// *_data fields, and external data from regular files inside the model's own folder only), and
// the metadata that newer ONNX versions put on nodes and graphs. Leaves out: sparse initializers,
// string and complex tensors, 4-bit and 2-bit types, big-endian hosts. Spec: onnx/onnx.proto
// (IR version 10 and earlier; the ONNX "External Data" document).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/state_dict.h"
#include "common/mapped_file.h"

namespace onnx {
class ModelProto;
class TensorProto;
}  // namespace onnx
namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace cnnscope {

struct OnnxModel {
  std::string path;  // the .onnx file, for messages and its folder (external data)
  std::shared_ptr<const onnx::ModelProto> proto;
};

// True when the first bytes look like a serialized ModelProto: ir_version (field 1) first, then a
// field of ModelProto's own.
bool looks_like_onnx(const MappedFile& file);

// Reads and parses `path` (a regular file, at most 2 GiB: protobuf's limit); throws Error naming
// the file when it is not a ModelProto or has no graph.
OnnxModel read_onnx(const std::string& path);

// The tensor `t` holds (its name in errors); external data is read from the model's folder only.
at::Tensor onnx_tensor(const OnnxModel& model, const onnx::TensorProto& t);

// The graph's initializers in the file's order (external data files read once each).
std::vector<NamedTensor> onnx_initializers(const OnnxModel& model);

// The initializers of the model at `path` as a state_dict (format "onnx").
StateDict onnx_state_dict(const std::string& path);

// The torch dtype of an ONNX TensorProto.DataType, or nullopt (string, complex, 4-bit, or one
// this LibTorch has no type for).
std::optional<at::ScalarType> onnx_scalar_type(int32_t data_type);

// The StringStringEntryProto entries of field `field` of `message` (metadata_props of nodes,
// field 9, and graphs, field 16, added after the ONNX version these classes come from), in order.
std::vector<std::pair<std::string, std::string>> onnx_metadata(
    const google::protobuf::Message& message, int field);

}  // namespace cnnscope
