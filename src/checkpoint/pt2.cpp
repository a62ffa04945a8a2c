// read_pt2 (pt2.h): the PT2 archive's records. Layout (torch/export/pt2_archive/_package.py):
// archive_format ("pt2"), archive_version ("0"), models/<name>.json, data/weights/
// <name>_weights_config.json and data/constants/<name>_constants_config.json ({"config": {fqn:
// {path_name, is_param, use_pickle, tensor_meta}}}), the raw records they name (a storage: its
// bytes, `tensor_meta` the view over it), data/sample_inputs/<name>.pt (a pickle: not read).
// TensorMeta (torch/_export/serde/schema.py): dtype as export's ScalarType enum, sizes/strides/
// storage_offset as {"as_int": n}. Leaves out: the legacy layout of torch 2.5 and earlier
// (serialized_*.json/.pt: refused with a hint), AOTInductor and ExecuTorch payloads.
#include "checkpoint/pt2.h"

#include <cstring>
#include <map>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/text.h"

namespace cnnscope {
namespace {

constexpr int kMaxJsonDepth = 128;
// DenseNet-121's program is 1.3 MB and 94,000 values; these allow 40 times more.
constexpr size_t kMaxJsonBytes = size_t{64} << 20;
constexpr int64_t kMaxJsonValues = int64_t{1} << 22;
constexpr const char* kArchiveVersion = "0";

// (pt2.h)
at::ScalarType scalar_type(const std::string& path, int64_t code) {
  static const std::map<int64_t, at::ScalarType> kTypes{
      {1, at::kByte},        {2, at::kChar},          {3, at::kShort},          {4, at::kInt},
      {5, at::kLong},        {6, at::kHalf},          {7, at::kFloat},          {8, at::kDouble},
      {9, at::kComplexHalf}, {10, at::kComplexFloat}, {11, at::kComplexDouble}, {12, at::kBool},
      {13, at::kBFloat16}};
  auto it = kTypes.find(code);
  if (it == kTypes.end())
    fail(path, "a tensor of export dtype code " + std::to_string(code) + " is not supported",
         "export the model in float32");
  return it->second;
}

// {"as_int": n} -> n (a symbolic size in a weight is refused).
int64_t as_int(const std::string& path, const nlohmann::json& v) {
  if (!v.is_object() || !v.contains("as_int") || !v["as_int"].is_number_integer())
    fail(path, "a weight's size or stride is not a plain integer", "the archive is damaged");
  return v["as_int"].get<int64_t>();
}

std::vector<int64_t> int_list(const std::string& path, const nlohmann::json& v) {
  if (!v.is_array()) fail(path, "a weight's sizes are not a list", "the archive is damaged");
  std::vector<int64_t> out;
  for (const auto& item : v) out.push_back(as_int(path, item));
  return out;
}

// The view `meta` describes over `storage` ([numel] of its dtype), its extent checked.
at::Tensor view_of(const std::string& path, const std::string& name, const at::Tensor& storage,
                   const nlohmann::json& meta) {
  const std::vector<int64_t> sizes = int_list(path, meta.value("sizes", nlohmann::json()));
  const std::vector<int64_t> strides = int_list(path, meta.value("strides", nlohmann::json()));
  const int64_t offset = as_int(path, meta.value("storage_offset", nlohmann::json()));
  if (sizes.size() != strides.size() || offset < 0)
    fail(path, "weight '" + name + "' has sizes and strides that do not match",
         "the archive is damaged or crafted");
  int64_t last = offset;  // the highest element the view reads
  bool empty = false;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || strides[i] < 0)
      fail(path, "weight '" + name + "' has a negative size or stride", "the archive is crafted");
    if (sizes[i] == 0) empty = true;
    if (sizes[i] > 0 && strides[i] > 0 &&
        (sizes[i] - 1) > (std::numeric_limits<int64_t>::max() - last) / strides[i])
      fail(path, "weight '" + name + "' reaches past any storage", "the archive is crafted");
    if (sizes[i] > 0) last += (sizes[i] - 1) * strides[i];
  }
  if (!empty && last >= storage.numel())
    fail(path,
         "weight '" + name + "' reads element " + std::to_string(last) + " of a record of " +
             std::to_string(storage.numel()),
         "the archive is truncated or crafted");
  if (empty) return at::empty(sizes, storage.options());
  return storage.as_strided(sizes, strides, offset);
}

// The tensors a payload config names, each a view over its record's storage.
std::vector<NamedTensor> payloads(const ZipArchive& zip, const std::string& config_name,
                                  const std::string& dir, std::vector<bool>* parameter) {
  const std::string& path = zip.path();
  std::vector<NamedTensor> out;
  if (!zip.has(config_name)) return out;
  const nlohmann::json config = parse_json_bounded(path, config_name, zip.read(config_name));
  if (!config.is_object() || !config.contains("config") || !config["config"].is_object())
    fail(path, "record '" + config_name + "' holds no config", "the archive is damaged");
  std::map<std::string, at::Tensor> storages;  // path_name -> [numel]
  for (const auto& [name, meta] : config["config"].items()) {
    if (!meta.is_object() || !meta.contains("path_name") || !meta["path_name"].is_string())
      fail(path, "entry '" + escape_control(name) + "' of '" + config_name + "' names no record",
           "the archive is damaged");
    if (meta.value("use_pickle", false))
      fail(path,
           "refused: '" + escape_control(name) +
               "' is stored as a pickle (a tensor subclass or custom object), which loading "
               "would run",
           "export a model whose weights are plain tensors");
    const std::string record = meta["path_name"].get<std::string>();
    if (record.empty() || record.find('/') != std::string::npos || starts_with(record, ".."))
      fail(path,
           "entry '" + escape_control(name) + "' names record '" + escape_control(record) +
               "' outside " + dir,
           "the archive is crafted");
    const nlohmann::json tensor_meta = meta.value("tensor_meta", nlohmann::json());
    if (!tensor_meta.is_object() || !tensor_meta.contains("dtype") ||
        !tensor_meta["dtype"].is_number_integer())
      fail(path, "entry '" + escape_control(name) + "' has no tensor_meta",
           "the archive is damaged");
    const at::ScalarType type = scalar_type(path, tensor_meta["dtype"].get<int64_t>());
    auto it = storages.find(record);
    if (it == storages.end()) {
      const PthFile::Bytes bytes = zip.place(dir + record);
      const DType* dtype = dtype_from_scalar_type(type);
      if (!dtype || bytes.size % dtype->element_size != 0)
        fail(path, "record '" + dir + record + "' is not a whole number of elements",
             "the archive is damaged");
      // A copy in the network's own memory (records need not be aligned for the dtype).
      const auto numel = static_cast<int64_t>(bytes.size / dtype->element_size);
      at::Tensor storage = at::empty({numel}, at::TensorOptions().dtype(type));  // [numel]
      if (bytes.size > 0) std::memcpy(storage.data_ptr(), bytes.data, bytes.size);
      it = storages.emplace(record, storage).first;
    } else if (it->second.scalar_type() != type) {
      fail(path, "record '" + dir + record + "' is read as two dtypes", "the archive is crafted");
    }
    out.push_back({name, view_of(path, escape_control(name), it->second, tensor_meta)});
    if (parameter) parameter->push_back(meta.value("is_param", false));
  }
  return out;
}

// JSON refused before parsing when over kMaxJsonBytes, nesting deeper than kMaxJsonDepth or
// holding more than kMaxJsonValues values (commas, colons and brackets counted, strings skipped):
// what a parsed tree costs is bounded by the values, not the bytes (a deflated record of zeros
// expands 1000-fold).
void check_json_shape(const std::string& path, const std::string& what, const std::string& text) {
  const auto refuse = [&](const std::string& why) {
    fail(path, "record '" + what + "' " + why, "the archive is crafted");
  };
  if (text.size() > kMaxJsonBytes) refuse("is over " + human_bytes(kMaxJsonBytes) + " of JSON");
  int depth = 0;
  int64_t values = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == ',' || c == ':' || c == '[' || c == '{') ++values;
    if ((c == '[' || c == '{') && ++depth > kMaxJsonDepth)
      refuse("nests deeper than " + std::to_string(kMaxJsonDepth));
    if (c == ']' || c == '}') --depth;
  }
  if (values > kMaxJsonValues) refuse("holds over " + thousands(kMaxJsonValues) + " JSON values");
}

}  // namespace

at::ScalarType export_scalar_type(const std::string& path, int64_t code) {
  return scalar_type(path, code);
}

nlohmann::json parse_json_bounded(const std::string& path, const std::string& what,
                                  const std::string& text) {
  check_json_shape(path, what, text);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, "record '" + what + "' is not valid JSON: " + e.what(), "the archive is damaged");
  }
}

bool is_pt2(const std::shared_ptr<const MappedFile>& file) {
  const ZipArchive zip(file);
  return zip.has("archive_format") && zip.size("archive_format") < 16 &&
         zip.read("archive_format") == "pt2";
}

Pt2File read_pt2(const std::shared_ptr<const MappedFile>& file) {
  const ZipArchive zip(file);
  Pt2File out;
  out.path = file->path();
  const std::string& path = out.path;
  const std::string version = zip.has("archive_version") && zip.size("archive_version") < 16
                                  ? zip.read("archive_version")
                                  : std::string("?");
  if (version != kArchiveVersion)
    fail(path, "PT2 archive version " + escape_control(version) + " is not understood",
         "cnnscope reads version " + std::string(kArchiveVersion) +
             " (torch 2.6 and later); re-export it with torch.export.save");
  std::vector<std::string> models;
  for (const std::string& name : zip.names())
    if (starts_with(name, "models/") && ends_with(name, ".json"))
      models.push_back(name.substr(7, name.size() - 12));
  if (models.empty())
    fail(path, "PT2 archive without models/*.json",
         "not a torch.export.save file (an AOTInductor package holds compiled code, not a graph)");
  std::string model = models.front();
  if (models.size() > 1) {
    model = "model";
    if (!zip.has("models/model.json"))
      fail(path,
           "PT2 archive with " + std::to_string(models.size()) + " programs and none named 'model'",
           "save one program per file");
  }
  try {
    out.program = parse_json_bounded(path, "models/" + model + ".json",
                                     zip.read("models/" + model + ".json"));
    out.weights = payloads(zip, "data/weights/" + model + "_weights_config.json", "data/weights/",
                           &out.parameter);
    out.constants = payloads(zip, "data/constants/" + model + "_constants_config.json",
                             "data/constants/", nullptr);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("a JSON record of the archive is malformed: ") + e.what(),
         "the archive is damaged or crafted");
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    fail(path, "a weight cannot be made: " + escape_control(what.substr(0, what.find('\n'))),
         "the archive is damaged or crafted");
  }
  return out;
}

}  // namespace cnnscope
