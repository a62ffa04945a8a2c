// Reads safetensors files: every dtype torch has a name for, bounds-checked offsets, zero-copy.
// Leaves out: big-endian hosts. Spec: huggingface/safetensors README ("Format").
#include "checkpoint/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>

#include "checkpoint/dtype.h"
#include "common/error.h"

namespace cnnscope {
namespace {

constexpr size_t kLengthBytes = 8;
constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the reference implementation's limit

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool looks_like_safetensors(const MappedFile& file) {
  if (file.size() < kLengthBytes + 2) return false;
  uint64_t n = read_u64_le(file.data());
  return n >= 2 && n <= file.size() - kLengthBytes && file.data()[kLengthBytes] == '{';
}

StateDict read_safetensors(const std::shared_ptr<const MappedFile>& file) {
  const std::string& path = file->path();
  if (file->size() < kLengthBytes) fail(path, "truncated safetensors file: no header length");
  const uint64_t header_len = read_u64_le(file->data());
  if (header_len > kMaxHeaderBytes || header_len > file->size() - kLengthBytes)
    fail(path,
         "safetensors header length " + std::to_string(header_len) +
             " passes the end of the file (" + std::to_string(file->size()) + " bytes)",
         "the file is truncated or not safetensors");
  const char* header_begin = reinterpret_cast<const char*>(file->data()) + kLengthBytes;
  // ordered_json keeps the header's text order: the tie-break for tensors at the same offset.
  nlohmann::ordered_json header =
      nlohmann::ordered_json::parse(header_begin, header_begin + header_len, nullptr,
                                    /*allow_exceptions=*/false);
  if (!header.is_object()) fail(path, "safetensors header is not a JSON object");
  const uint8_t* buffer = file->data() + kLengthBytes + header_len;
  const uint64_t buffer_len = file->size() - kLengthBytes - header_len;

  struct Entry {
    uint64_t begin;
    uint64_t end;
    std::string name;
    at::Tensor tensor;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const nlohmann::ordered_json& info = it.value();
    auto bad = [&](const std::string& what) {
      fail(path, "tensor '" + name + "': " + what, "the safetensors header is malformed");
    };
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() ||
        !info.contains("shape") || !info["shape"].is_array() || !info.contains("data_offsets") ||
        !info["data_offsets"].is_array() || info["data_offsets"].size() != 2)
      bad("needs string 'dtype', array 'shape' and two 'data_offsets'");
    const std::string code = info["dtype"].get<std::string>();
    const DType* dtype = dtype_from_safetensors(code);
    if (!dtype) bad("unsupported dtype '" + code + "'");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : info["shape"]) {
      if (!d.is_number_unsigned()) bad("shape entries must be non-negative integers");
      const uint64_t n = d.get<uint64_t>();
      if (n != 0 && numel > (uint64_t{1} << 62) / n) bad("shape overflows");
      numel *= n;
      shape.push_back(static_cast<int64_t>(n));
    }
    const auto& offs = info["data_offsets"];
    if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      bad("data_offsets must be non-negative integers");
    const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > buffer_len)
      bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
          "] pass the end of the data (" + std::to_string(buffer_len) + " bytes)");
    if (end - begin != numel * dtype->element_size)
      bad("expected " + std::to_string(numel * dtype->element_size) +
          " bytes for shape and dtype, got " + std::to_string(end - begin));
    at::Tensor t = tensor_from_bytes(file, buffer + begin, *dtype, shape);
    entries.push_back({begin, end, name, std::move(t)});
  }
  // The data order is the file's order (empty tensors sit before the data at their offset).
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  StateDict out;
  out.file = path;
  out.format = "safetensors";
  for (Entry& e : entries) out.tensors.push_back({std::move(e.name), std::move(e.tensor)});
  return out;
}

}  // namespace cnnscope
