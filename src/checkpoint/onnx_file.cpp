// Reads .onnx files: the whole file through MappedFile (regular files only), parsed once into the
// ONNX project's ModelProto; tensors from raw_data (aliasing the parsed message when aligned), from
// the typed fields (float_data, int32_data, int64_data, double_data, uint64_data, each element
// converted as onnx.proto says), or from external data: a `location` relative to the model's
// folder, no absolute path, no `..` component, no symlink out of the folder, a regular file, and
// `offset`/`length` checked against the file and the tensor's dims. Every size is checked before
// anything is allocated. Leaves out: segments, sparse tensors, strings, complex numbers, packed
// 4-bit and 2-bit types, external data checksums. Spec: onnx/onnx.proto (TensorProto,
// StringStringEntryProto), docs/ExternalData.md of the ONNX repository.
#include "checkpoint/onnx_file.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/onnx_pb.h>

#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/text.h"

namespace cnnscope {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxRank = 32;
constexpr uint64_t kMaxElements = uint64_t{1} << 62;
constexpr size_t kMaxMetadataEntries = 4096;  // per node or graph

// TensorProto.DataType: its name, and the torch dtype's name where torch has one.
struct OnnxType {
  int32_t code;
  const char* name;
  const char* torch_name;  // nullptr: not read
};

constexpr OnnxType kTypes[] = {
    {0, "UNDEFINED", nullptr},       {1, "FLOAT", "float32"},
    {2, "UINT8", "uint8"},           {3, "INT8", "int8"},
    {4, "UINT16", "uint16"},         {5, "INT16", "int16"},
    {6, "INT32", "int32"},           {7, "INT64", "int64"},
    {8, "STRING", nullptr},          {9, "BOOL", "bool"},
    {10, "FLOAT16", "float16"},      {11, "DOUBLE", "float64"},
    {12, "UINT32", "uint32"},        {13, "UINT64", "uint64"},
    {14, "COMPLEX64", nullptr},      {15, "COMPLEX128", nullptr},
    {16, "BFLOAT16", "bfloat16"},    {17, "FLOAT8E4M3FN", "float8_e4m3fn"},
    {18, "FLOAT8E4M3FNUZ", nullptr}, {19, "FLOAT8E5M2", "float8_e5m2"},
    {20, "FLOAT8E5M2FNUZ", nullptr}, {21, "UINT4", nullptr},
    {22, "INT4", nullptr},           {23, "FLOAT4E2M1", nullptr},
    {24, "FLOAT8E8M0", nullptr},     {25, "UINT2", nullptr},
    {26, "INT2", nullptr},
};

std::string type_name(int32_t code) {
  for (const OnnxType& t : kTypes)
    if (t.code == code) return t.name;
  return "type " + std::to_string(code);
}

// The external data files of one read, each opened once (by its canonical path).
class ExternalFiles {
 public:
  explicit ExternalFiles(const std::string& model_path) : model_path_(model_path) {
    const fs::path parent = fs::path(model_path).parent_path();
    folder_ = parent.empty() ? fs::path(".") : parent;
  }

  std::shared_ptr<const MappedFile> open(const std::string& tensor, const std::string& location) {
    const std::string where = "external data of tensor '" + escape_control(tensor) + "' at '" +
                              escape_control(location) + "'";
    const std::string hint = "ONNX external data must be a file in the model's own folder";
    if (location.empty() || location.find('\0') != std::string::npos)
      fail(model_path_, where + " names no file", hint);
    if (location.front() == '/' || location.front() == '\\' || fs::path(location).has_root_name())
      fail(model_path_, where + " is an absolute path", hint);
    for (const fs::path& part : fs::path(location))
      if (part == "..") fail(model_path_, where + " leaves the model's folder", hint);
    if (location.find("..\\") != std::string::npos || location.find("\\..") != std::string::npos)
      fail(model_path_, where + " leaves the model's folder", hint);
    std::error_code ec;
    const fs::path folder = fs::canonical(folder_, ec);
    if (ec) fail(model_path_, "cannot resolve the model's folder: " + ec.message());
    const fs::path file = fs::canonical(folder_ / location, ec);
    if (ec) fail(model_path_, where + ": " + ec.message(), hint);
    const fs::path inside = file.lexically_relative(folder);
    if (inside.empty() || *inside.begin() == ".." || *inside.begin() == ".")
      fail(model_path_, where + " leads out of the model's folder (a symlink)", hint);
    auto found = files_.find(file.string());
    if (found != files_.end()) return found->second;
    return files_[file.string()] = MappedFile::open(file.string());
  }

 private:
  std::string model_path_;
  fs::path folder_;
  std::map<std::string, std::shared_ptr<const MappedFile>> files_;
};

bool parse_u64(const std::string& text, uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// A tensor of `shape` and `dtype` whose elements are `field`'s, each cast to `Out` (the storage
// type: the value for numbers, the bit pattern for float16/bfloat16/float8 in int32_data).
template <typename Out, typename In>
at::Tensor from_field(const google::protobuf::RepeatedField<In>& field, at::ScalarType dtype,
                      const std::vector<int64_t>& shape) {
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));  // [dims]
  Out* out = static_cast<Out*>(t.data_ptr());
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<Out>(field.Get(static_cast<int>(i)));
  return t;
}

at::Tensor typed_data(const onnx::TensorProto& t, at::ScalarType dtype,
                      const std::vector<int64_t>& shape, int64_t numel,
                      const std::function<void(const std::string&)>& bad) {
  const auto need = [&](int size, const char* field) {
    if (size != numel)
      bad(std::string(field) + " holds " + std::to_string(size) + " values, its dims need " +
          std::to_string(numel));
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      need(t.float_data_size(), "float_data");
      return from_field<float>(t.float_data(), dtype, shape);
    case onnx::TensorProto::DOUBLE:
      need(t.double_data_size(), "double_data");
      return from_field<double>(t.double_data(), dtype, shape);
    case onnx::TensorProto::INT64:
      need(t.int64_data_size(), "int64_data");
      return from_field<int64_t>(t.int64_data(), dtype, shape);
    case onnx::TensorProto::UINT64:
      need(t.uint64_data_size(), "uint64_data");
      return from_field<uint64_t>(t.uint64_data(), dtype, shape);
    case onnx::TensorProto::UINT32:
      need(t.uint64_data_size(), "uint64_data");
      return from_field<uint32_t>(t.uint64_data(), dtype, shape);
    case onnx::TensorProto::INT32:
      need(t.int32_data_size(), "int32_data");
      return from_field<int32_t>(t.int32_data(), dtype, shape);
    case onnx::TensorProto::INT16:
      need(t.int32_data_size(), "int32_data");
      return from_field<int16_t>(t.int32_data(), dtype, shape);
    case onnx::TensorProto::INT8:
      need(t.int32_data_size(), "int32_data");
      return from_field<int8_t>(t.int32_data(), dtype, shape);
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
      need(t.int32_data_size(), "int32_data");
      return from_field<uint16_t>(t.int32_data(), dtype, shape);
    case onnx::TensorProto::UINT8:
      need(t.int32_data_size(), "int32_data");
      return from_field<uint8_t>(t.int32_data(), dtype, shape);
    case onnx::TensorProto::BOOL:
      need(t.int32_data_size(), "int32_data");
      return from_field<bool>(t.int32_data(), dtype, shape);
    default:  // the float8 types: one value per int32_data entry
      need(t.int32_data_size(), "int32_data");
      return from_field<uint8_t>(t.int32_data(), dtype, shape);
  }
}

at::Tensor read_tensor(const OnnxModel& model, const onnx::TensorProto& t, ExternalFiles& files) {
  const auto bad = [&](const std::string& what) {
    fail(model.path, "tensor '" + escape_control(t.name()) + "': " + what,
         "the ONNX file is malformed");
  };
  if (t.has_segment()) bad("is stored in segments, which cnnscope does not read");
  const std::optional<at::ScalarType> dtype = onnx_scalar_type(t.data_type());
  if (!dtype) bad("data type " + type_name(t.data_type()) + " is not supported");
  if (t.dims_size() > kMaxRank) bad(std::to_string(t.dims_size()) + " dimensions");
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) bad("negative dimension " + std::to_string(d));
    if (d != 0 && numel > kMaxElements / static_cast<uint64_t>(d)) bad("dims overflow");
    numel *= static_cast<uint64_t>(d);
    shape.push_back(d);
  }
  const DType* info = dtype_from_scalar_type(*dtype);
  const uint64_t bytes = numel * info->element_size;
  if (numel > kMaxElements / info->element_size) bad("dims overflow");

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    uint64_t offset = 0, length = bytes;
    for (const onnx::StringStringEntryProto& e : t.external_data()) {
      if (e.key() == "location") {
        location = e.value();
      } else if ((e.key() == "offset" && !parse_u64(e.value(), offset)) ||
                 (e.key() == "length" && !parse_u64(e.value(), length))) {
        bad("external data " + e.key() + " '" + e.value() + "' is not a byte count");
      }
    }
    const std::shared_ptr<const MappedFile> file = files.open(t.name(), location);
    if (length != bytes)
      bad("external data length " + std::to_string(length) + " bytes, its dims and type need " +
          std::to_string(bytes));
    if (offset > file->size() || bytes > file->size() - offset)
      bad("external data [" + std::to_string(offset) + ", " + std::to_string(offset + bytes) +
          ") passes the end of " + file->path() + " (" + std::to_string(file->size()) + " bytes)");
    return tensor_from_bytes(file, file->data() + offset, *info, shape);
  }
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != bytes)
      bad("raw_data holds " + std::to_string(raw.size()) + " bytes, its dims and type need " +
          std::to_string(bytes));
    const auto options = at::TensorOptions().dtype(*dtype);
    if (*dtype != at::kBool && reinterpret_cast<uintptr_t>(raw.data()) % info->element_size == 0) {
      // Shares the parsed message's bytes; the deleter keeps the message alive.
      auto keep = new std::shared_ptr<const onnx::ModelProto>(model.proto);
      return at::from_blob(
          const_cast<char*>(raw.data()), shape, [keep](void*) { delete keep; }, options);
    }
    if (*dtype == at::kBool) {
      at::Tensor out = at::empty(shape, options);  // [dims]
      bool* p = out.data_ptr<bool>();
      for (uint64_t i = 0; i < numel; ++i) p[i] = raw[i] != 0;
      return out;
    }
    at::Tensor out = at::empty(shape, options);  // [dims]
    if (bytes) std::memcpy(out.data_ptr(), raw.data(), bytes);
    return out;
  }
  return typed_data(t, *dtype, shape, static_cast<int64_t>(numel), bad);
}

}  // namespace

std::optional<at::ScalarType> onnx_scalar_type(int32_t data_type) {
  for (const OnnxType& t : kTypes)
    if (t.code == data_type && t.torch_name)
      if (const DType* d = dtype_from_torch_name(t.torch_name)) return d->scalar_type;
  return std::nullopt;
}

bool looks_like_onnx(const MappedFile& file) {
  const uint8_t* p = file.data();
  const size_t n = file.size();
  if (n < 4 || p[0] != 0x08) return false;  // field 1 (ir_version), varint
  size_t i = 1;
  uint64_t version = 0;
  for (int shift = 0; i < n && shift < 64; shift += 7, ++i) {
    version |= uint64_t{p[i] & 0x7fu} << shift;
    if (!(p[i] & 0x80)) break;
  }
  if (++i >= n || version == 0 || version > 100) return false;
  // producer_name, producer_version, domain, model_version, doc_string, graph, opset_import,
  // metadata_props: the fields an exporter writes after ir_version.
  for (uint8_t tag : {0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72})
    if (p[i] == tag) return true;
  return false;
}

// What parsing a ModelProto would build, counted from the wire before it is built (protobuf's
// parser allocates for every entry: 10 million empty initializers, 2 bytes each, would take
// 2.5 GB): at most kMaxMessages sub-messages and kMaxEntries fields of any kind, unknown ones
// included, nested at most kMaxNesting deep. Malformed bytes stop the count; the parse that
// follows reports them.
class WireCount {
 public:
  static constexpr int64_t kMaxMessages = int64_t{1} << 20;
  static constexpr int64_t kMaxEntries = int64_t{1} << 24;
  static constexpr int kMaxNesting = 100;

  // False when the message at `in` passes a bound.
  bool fits(google::protobuf::io::CodedInputStream& in, const google::protobuf::Descriptor* type,
            int depth) {
    using google::protobuf::FieldDescriptor;
    using google::protobuf::internal::WireFormatLite;
    for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
      if (++entries_ > kMaxEntries) return false;
      const FieldDescriptor* field =
          type ? type->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag)) : nullptr;
      const bool message =
          field && field->type() == FieldDescriptor::TYPE_MESSAGE &&
          WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
      if (!message) {
        if (!WireFormatLite::SkipField(&in, tag)) return true;
        continue;
      }
      if (++messages_ > kMaxMessages || depth >= kMaxNesting) return false;
      uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return true;
      const auto limit = in.PushLimit(static_cast<int>(length));
      if (!fits(in, field->message_type(), depth + 1)) return false;
      in.PopLimit(limit);
    }
    return true;
  }

 private:
  int64_t messages_ = 0;
  int64_t entries_ = 0;
};

OnnxModel read_onnx(const std::string& path) {
  const std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  if (file->size() == 0) fail(path, "empty file");
  if (file->size() > static_cast<size_t>(INT_MAX))
    fail(path, "an ONNX file over 2 GiB",
         "protobuf cannot read it; keep the weights as external data");
  google::protobuf::io::CodedInputStream wire(file->data(), static_cast<int>(file->size()));
  if (!WireCount().fits(wire, onnx::ModelProto::descriptor(), 0))
    fail(path,
         "the model holds over " + thousands(WireCount::kMaxMessages) + " messages or " +
             thousands(WireCount::kMaxEntries) + " fields, or nests deeper than " +
             std::to_string(WireCount::kMaxNesting),
         "the file is crafted");
  auto proto = std::make_shared<onnx::ModelProto>();
  if (!proto->ParseFromArray(file->data(), static_cast<int>(file->size())))
    fail(path, "not a valid ONNX model: the protobuf does not parse",
         "the file is truncated or not ONNX");
  if (!proto->has_graph()) fail(path, "an ONNX model without a graph");
  return OnnxModel{path, std::move(proto)};
}

at::Tensor onnx_tensor(const OnnxModel& model, const onnx::TensorProto& t) {
  ExternalFiles files(model.path);
  return read_tensor(model, t, files);
}

std::vector<NamedTensor> onnx_initializers(const OnnxModel& model) {
  const onnx::GraphProto& graph = model.proto->graph();
  if (graph.sparse_initializer_size() > 0)
    fail(model.path,
         "sparse initializers ('" + escape_control(graph.sparse_initializer(0).values().name()) +
             "')",
         "cnnscope reads dense tensors only");
  ExternalFiles files(model.path);
  std::vector<NamedTensor> out;
  out.reserve(static_cast<size_t>(graph.initializer_size()));
  for (const onnx::TensorProto& t : graph.initializer())
    out.push_back({t.name(), read_tensor(model, t, files)});
  return out;
}

StateDict onnx_state_dict(const std::string& path) {
  StateDict out;
  out.file = path;
  out.format = "onnx";
  out.tensors = onnx_initializers(read_onnx(path));
  return out;
}

std::vector<std::pair<std::string, std::string>> onnx_metadata(
    const google::protobuf::Message& message, int field) {
  const google::protobuf::UnknownFieldSet& unknown =
      message.GetReflection()->GetUnknownFields(message);
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < unknown.field_count() && out.size() < kMaxMetadataEntries; ++i) {
    const google::protobuf::UnknownField& f = unknown.field(i);
    if (f.number() != field || f.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      continue;
    onnx::StringStringEntryProto entry;
    if (entry.ParseFromString(f.length_delimited())) out.emplace_back(entry.key(), entry.value());
  }
  return out;
}

}  // namespace cnnscope
