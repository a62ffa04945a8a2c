// torch.save zip and legacy readers. Zip: PyTorchStreamReader opens the archive and places each
// record (getRecordOffset, no copy); record sizes come from the ZIP central directory (APPNOTE
// 4.3.12/4.3.14-16) because LibTorch 1.13 exposes none. Leaves out: the pre-1.0 tar format,
// big-endian files. Spec: torch/serialization.py; PKWARE APPNOTE.TXT.
#include "checkpoint/pth.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope {
namespace {

using pickle::Kind;
using pickle::StorageRef;
using pickle::Value;

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kEnd64LocatorSize = 20;
constexpr size_t kEnd64Size = 56;
constexpr size_t kCentralSize = 46;
constexpr size_t kMaxComment = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kMethodStored = 0;
// Legacy format: the pickled magic number 0x1950a86a20f9469cfc6c as LONG1, after PROTO 2.
constexpr uint8_t kLegacyPrefix[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                     0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;
constexpr size_t kTarMagicOffset = 257;

uint64_t le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// ReadAdapter over our memory map, bounds-checked (returns short reads past the end).
class MappedAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MappedAdapter(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {}
  size_t size() const override { return file_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= file_->size()) return 0;
    n = std::min<uint64_t>(n, file_->size() - pos);
    std::memcpy(buf, file_->data() + pos, n);
    return n;
  }

 private:
  std::shared_ptr<const MappedFile> file_;
};

// A record that is read whole into memory (data.pkl, byteorder, code/*.py): refused before LibTorch
// allocates its declared size when that size is over 1 GiB or more than deflate can give from its
// compressed bytes (at most 1032:1), or a stored record's sizes differ.
void check_record_size(const std::string& path, const std::string& name, const ZipEntry& e) {
  constexpr uint64_t kMaxRecordBytes = uint64_t{1} << 30;
  constexpr uint64_t kMaxDeflateRatio = 1032;
  const bool plausible = e.method == kMethodStored ? e.size == e.compressed
                                                   : e.size / kMaxDeflateRatio <= e.compressed;
  if (!plausible || e.size > kMaxRecordBytes)
    fail(path,
         "record '" + name + "' declares " + std::to_string(e.size) + " bytes from " +
             std::to_string(e.compressed) + " compressed",
         "the archive is damaged or crafted");
}

// name -> sizes, from the central directory (ZIP64 aware).
std::unordered_map<std::string, ZipEntry> central_directory(const MappedFile& f) {
  const std::string& path = f.path();
  const uint8_t* d = f.data();
  const uint64_t size = f.size();
  auto bad = [&](const std::string& what) {
    fail(path, "damaged zip archive: " + what, "the file is truncated or not a torch.save file");
  };
  if (size < kEndSize) bad("too short for an end-of-central-directory record");
  uint64_t end = size - kEndSize;
  const uint64_t lowest = size > kEndSize + kMaxComment ? size - kEndSize - kMaxComment : 0;
  while (le(d + end, 4) != kEndSig) {
    if (end == lowest) bad("no end-of-central-directory record");
    --end;
  }
  uint64_t count = le(d + end + 10, 2);
  uint64_t cd_size = le(d + end + 12, 4);
  uint64_t cd_offset = le(d + end + 16, 4);
  if (end >= kEnd64LocatorSize && le(d + end - kEnd64LocatorSize, 4) == kEnd64LocatorSig) {
    const uint64_t at = le(d + end - kEnd64LocatorSize + 8, 8);
    if (at > size - kEnd64Size || le(d + at, 4) != kEnd64Sig) bad("bad ZIP64 end record");
    count = le(d + at + 32, 8);
    cd_size = le(d + at + 40, 8);
    cd_offset = le(d + at + 48, 8);
  }
  if (cd_offset > size || cd_size > size - cd_offset) bad("central directory past the end");
  std::unordered_map<std::string, ZipEntry> out;
  uint64_t p = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t k = 0; k < count; ++k) {
    if (p > cd_end || cd_end - p < kCentralSize || le(d + p, 4) != kCentralSig)
      bad("central directory entry " + std::to_string(k) + " is malformed");
    ZipEntry e;
    e.method = static_cast<uint16_t>(le(d + p + 10, 2));
    e.compressed = le(d + p + 20, 4);
    e.size = le(d + p + 24, 4);
    const uint64_t name_len = le(d + p + 28, 2), extra_len = le(d + p + 30, 2),
                   comment_len = le(d + p + 32, 2);
    if (cd_end - p - kCentralSize < name_len + extra_len + comment_len)
      bad("central directory entry " + std::to_string(k) + " passes its end");
    std::string name(reinterpret_cast<const char*>(d + p + kCentralSize), name_len);
    // ZIP64 extra field: the 64-bit values of the fields that hold 0xffffffff, in order.
    uint64_t x = p + kCentralSize + name_len;
    const uint64_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint16_t id = static_cast<uint16_t>(le(d + x, 2));
      const uint64_t len = le(d + x + 2, 2);
      if (len > x_end - x - 4) break;
      if (id == kZip64ExtraId) {
        uint64_t q = x + 4;
        if (e.size == 0xffffffff && q + 8 <= x + 4 + len) e.size = le(d + q, 8), q += 8;
        if (e.compressed == 0xffffffff && q + 8 <= x + 4 + len) e.compressed = le(d + q, 8);
      }
      x += 4 + len;
    }
    out[name] = e;
    p += kCentralSize + name_len + extra_len + comment_len;
  }
  return out;
}

// The storage type of a persistent id into `ref`: its dtype's storage name, UntypedStorage as
// bytes, and the quantized storages as the integer storages that hold their values.
void set_storage_type(StorageRef& ref, const Value& v, const std::string& path) {
  if (v.kind != Kind::Global) fail(path, "storage type in a persistent id is not a type");
  std::string name = v.s.substr(v.s.rfind('.') + 1);
  struct Quantized {
    const char* storage;
    const char* dtype;
    const char* integers;
  };
  static constexpr Quantized kQuantized[] = {{"QInt8Storage", "qint8", "CharStorage"},
                                             {"QUInt8Storage", "quint8", "ByteStorage"},
                                             {"QInt32Storage", "qint32", "IntStorage"}};
  for (const Quantized& q : kQuantized)
    if (name == q.storage) {
      ref.quantized = q.dtype;
      name = q.integers;
    }
  if (name == "UntypedStorage") name = "ByteStorage";
  if (!dtype_from_storage(name))
    fail(path, "unsupported storage type '" + v.s + "'", "supported: float, int and bool storages");
  ref.storage_type = name;
}

std::string key_of(const Value& v, const std::string& path) {
  if (v.kind == Kind::Str) return v.s;
  if (v.kind == Kind::Int) return std::to_string(v.i);
  fail(path, "storage key in a persistent id is not a string");
}

// Shares one StorageRef per key; a key declared twice must agree.
class StorageTable {
 public:
  explicit StorageTable(std::string path) : path_(std::move(path)) {}
  std::shared_ptr<StorageRef> get(StorageRef ref) {
    auto it = refs_.find(ref.key + "\n" + ref.view_of);
    if (it == refs_.end()) {
      auto p = std::make_shared<StorageRef>(std::move(ref));
      refs_.emplace(p->key + "\n" + p->view_of, p);
      return p;
    }
    if (it->second->storage_type != ref.storage_type || it->second->numel != ref.numel)
      fail(path_, "storage '" + ref.key + "' is declared twice with different types or sizes",
           "the checkpoint is damaged or crafted");
    return it->second;
  }
  const std::unordered_map<std::string, std::shared_ptr<StorageRef>>& all() const { return refs_; }

 private:
  std::string path_;
  std::unordered_map<std::string, std::shared_ptr<StorageRef>> refs_;
};

uint64_t nbytes(const StorageRef& ref, const std::string& path) {
  uint64_t out = 0;
  if (__builtin_mul_overflow(ref.numel, dtype_from_storage(ref.storage_type)->element_size, &out))
    fail(path, "storage '" + ref.key + "' declares an impossible size");
  return out;
}

}  // namespace

bool looks_like_zip(const MappedFile& file) {
  return file.size() >= 4 && le(file.data(), 4) == kLocalHeaderSig;
}

bool looks_like_legacy(const MappedFile& file) {
  return file.size() >= sizeof kLegacyPrefix &&
         std::memcmp(file.data(), kLegacyPrefix, sizeof kLegacyPrefix) == 0;
}

bool looks_like_tar(const MappedFile& file) {
  return file.size() > kTarMagicOffset + 5 &&
         std::memcmp(file.data() + kTarMagicOffset, "ustar", 5) == 0;
}

at::Tensor PthFile::tensor(const pickle::TensorRef& ref) {
  const StorageRef& s = *ref.storage;
  const std::string& path = file->path();
  const DType& dtype = *dtype_from_storage(s.storage_type);
  auto cached = cache_.find(&s);
  if (cached == cache_.end()) {
    const std::string& root = s.view_of.empty() ? s.key : s.view_of;
    auto it = storages.find(root);
    if (it == storages.end())
      fail(path, "storage '" + root + "' has no data in the file",
           "the checkpoint is truncated or damaged");
    Bytes bytes = it->second;
    uint64_t skip = 0;
    if (__builtin_mul_overflow(s.view_offset, dtype.element_size, &skip) || skip > bytes.size)
      fail(path, "storage view '" + s.key + "' starts past the end of storage '" + root + "'");
    bytes.data += skip;
    bytes.size -= skip;
    const uint64_t need = nbytes(s, path);
    if (need > bytes.size)
      fail(path,
           "storage '" + s.key + "' declares " + std::to_string(s.numel) + " elements (" +
               std::to_string(need) + " bytes) but its record holds " + std::to_string(bytes.size) +
               " bytes",
           "the checkpoint is truncated or crafted");
    at::Tensor flat =
        tensor_from_bytes(file, bytes.data, dtype, {static_cast<int64_t>(s.numel)});  // [numel]
    cached = cache_.emplace(&s, flat).first;
  }
  // The unpickler already checked that the view stays inside the storage's elements.
  at::Tensor values = cached->second.as_strided(ref.sizes, ref.strides, ref.storage_offset);
  if (!ref.quantizer) return values;
  const std::optional<Quantization> q = quantization(ref);
  // LibTorch's own quantized tensor and dequantize(): the values torch gives, bit for bit. The
  // integer storage type fixes the quantized dtype (CharStorage: qint8, ...).
  try {
    const at::Tensor ints = values.contiguous();
    const at::Tensor quantized =
        q->scheme == "per_tensor_affine"
            ? at::_make_per_tensor_quantized_tensor(ints, q->scale, q->zero_point)
            : at::_make_per_channel_quantized_tensor(ints, q->scales, q->zero_points, q->axis);
    return quantized.dequantize();
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    fail(path, "quantized tensor cannot be dequantized: " + msg.substr(0, msg.find('\n')),
         "the checkpoint is damaged or crafted");
  }
}

std::optional<Quantization> PthFile::quantization(const pickle::TensorRef& ref) {
  if (!ref.quantizer) return std::nullopt;
  const pickle::QuantizerRef& q = *ref.quantizer;
  Quantization out;
  out.dtype = ref.storage->quantized;
  out.scheme = q.scheme;
  out.scale = q.scale;
  out.zero_point = q.zero_point;
  out.axis = q.axis;
  if (q.scheme == "per_channel_affine") {
    out.scales = tensor(*q.scales);            // [C]
    out.zero_points = tensor(*q.zero_points);  // [C]
    if (out.scales.scalar_type() != at::kDouble || out.zero_points.scalar_type() != at::kLong)
      fail(file->path(),
           "per-channel quantized tensor with scales not float64 or zero points "
           "not int64",
           "the checkpoint is damaged or crafted");
  }
  return out;
}

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file)
    : file_(std::move(file)), entries_(central_directory(*file_)) {
  const std::string& path = file_->path();
  // Every record sits under one top-level folder (PyTorchStreamReader takes it from the first).
  for (const auto& [name, entry] : entries_) {
    const std::string folder = name.substr(0, name.find('/') + 1);
    if (folder.empty() || (!folder_.empty() && folder != folder_))
      fail(path, "records under more than one top-level folder",
           "not an archive written by PyTorch");
    folder_ = folder;
  }
  // The records PyTorchStreamReader reads whole as it opens the archive (the version, under
  // whichever folder it takes from the first entry): sizes checked first (fuzz_load found a
  // 3.4 GB version record allocated inside the reader's constructor), and the pickles and JSON
  // read whole later, so that a crafted size is named before miniz rejects the directory.
  for (const auto& [name, entry] : entries_)
    for (const char* metadata :
         {"/.data/version", "/version", "/.data/serialization_id", "/byteorder", ".pkl", ".json"})
      if (ends_with(name, metadata)) check_record_size(path, name, entry);
  try {
    reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
        std::make_shared<MappedAdapter>(file_));
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    fail(path, "not a readable PyTorch zip archive: " + msg.substr(0, msg.find('\n')),
         "the file is truncated or damaged");
  }
  if (has("byteorder") && read("byteorder") != "little")
    fail(path, "big-endian archive", "re-save it on a little-endian machine");
}

ZipArchive::~ZipArchive() = default;

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_)
    if (name.compare(0, folder_.size(), folder_) == 0) out.push_back(name.substr(folder_.size()));
  std::sort(out.begin(), out.end());
  return out;
}

bool ZipArchive::has(const std::string& name) const {
  return entries_.count(folder_ + name) != 0;
}

uint64_t ZipArchive::size(const std::string& name) const {
  auto it = entries_.find(folder_ + name);
  return it == entries_.end() ? 0 : it->second.size;
}

std::string ZipArchive::read(const std::string& name) const {
  auto it = entries_.find(folder_ + name);
  if (it == entries_.end())
    fail(file_->path(), "record '" + folder_ + name + "' is missing", "the archive is damaged");
  check_record_size(file_->path(), it->first, it->second);
  try {
    auto [ptr, n] = reader_->getRecord(name);
    return std::string(static_cast<const char*>(ptr.get()), n);
  } catch (const c10::Error& e) {
    fail(file_->path(), "cannot read record '" + it->first + "'", "the archive is damaged");
  }
}

PthFile::Bytes ZipArchive::place(const std::string& name) const {
  const std::string& path = file_->path();
  auto it = entries_.find(folder_ + name);
  if (it == entries_.end())
    fail(path, "record '" + folder_ + name + "' is missing", "the archive is truncated or damaged");
  if (it->second.method != kMethodStored || it->second.compressed != it->second.size)
    fail(path, "record '" + it->first + "' is compressed",
         "PyTorch stores tensor records uncompressed; re-save the file with PyTorch");
  size_t offset = 0;
  try {
    offset = reader_->getRecordOffset(name);
  } catch (const c10::Error& e) {
    fail(path, "cannot locate record '" + it->first + "'", "the zip archive is damaged");
  }
  if (offset > file_->size() || it->second.size > file_->size() - offset)
    fail(path, "record '" + it->first + "' passes the end of the file", "the file is truncated");
  return {file_->data() + offset, it->second.size};
}

std::unique_ptr<PthFile> read_zip(const std::shared_ptr<const MappedFile>& file,
                                  const std::string& archive) {
  const std::string& path = file->path();
  auto out = std::make_unique<PthFile>();
  out->file = file;
  out->format = "zip";
  const ZipArchive zip(file);
  if (!zip.has(archive + ".pkl"))
    fail(path, "zip archive without " + archive + ".pkl",
         "not a torch.save checkpoint or a TorchScript archive of torch 1.4 or later");
  const std::string pickle_bytes = zip.read(archive + ".pkl");
  // TorchScript (torch.jit.save): code/<module path>.py declares each class of data.pkl.
  for (const std::string& name : zip.names()) {
    if (name.compare(0, 5, "code/") != 0 || !ends_with(name, ".py")) continue;
    out->format = "torchscript";
    std::string module = name.substr(5, name.size() - 5 - 3);
    std::replace(module.begin(), module.end(), '/', '.');
    std::string& text = out->script_sources[module];
    text = zip.read(name);
    parse_script_classes(module, text, out->script_classes);
  }

  // The archive's format version (TorchScript's operator upgraders key on it).
  for (const char* record : {".data/version", "version"}) {
    if (out->format != "torchscript" || !zip.has(record)) continue;
    out->script_version = std::strtoull(zip.read(record).c_str(), nullptr, 10);
    break;
  }

  StorageTable table(path);
  auto persistent_load = [&](const Value& pid) -> Value* {
    if (pid.kind != Kind::Tuple || pid.items.size() != 5 || pid.items[0]->kind != Kind::Str ||
        pid.items[0]->s != "storage" || pid.items[4]->kind != Kind::Int || pid.items[4]->i < 0)
      fail(path, "unexpected persistent id in " + archive + ".pkl",
           "expected ('storage', type, key, location, numel)");
    StorageRef ref;
    set_storage_type(ref, *pid.items[1], path);
    ref.key = key_of(*pid.items[2], path);
    ref.numel = static_cast<uint64_t>(pid.items[4]->i);
    const std::string record = archive + "/" + ref.key;
    if (!out->storages.count(ref.key)) {
      const PthFile::Bytes bytes = zip.place(record);
      if (nbytes(ref, path) > bytes.size)
        fail(path,
             "storage '" + ref.key + "' declares " + std::to_string(ref.numel) +
                 " elements but record '" + record + "' holds " + std::to_string(bytes.size) +
                 " bytes",
             "the checkpoint is truncated or crafted");
      out->storages[ref.key] = bytes;
    } else if (nbytes(ref, path) > out->storages[ref.key].size) {
      fail(path, "storage '" + ref.key + "' is declared larger than its record",
           "the checkpoint is truncated or crafted");
    }
    Value* v = out->unpickler->make(Kind::Storage);
    v->storage = table.get(std::move(ref));
    return v;
  };
  // The unpickler reads `pickle_bytes`, which outlives load(); values copy what they keep.
  out->unpickler = std::make_unique<pickle::Unpickler>(path, pickle_bytes, persistent_load);
  out->root = out->unpickler->load();
  return out;
}

std::unique_ptr<PthFile> read_legacy(const std::shared_ptr<const MappedFile>& file) {
  const std::string& path = file->path();
  auto out = std::make_unique<PthFile>();
  out->file = file;
  out->format = "legacy";
  StorageTable table(path);
  std::unordered_map<std::string, std::string> root_types;  // root key -> storage type
  auto persistent_load = [&](const Value& pid) -> Value* {
    // torch.save(model): ('module', class, source file, source) for each nn.Module class; the
    // source is text torch.load compares, never runs. The class stands for itself.
    if (pid.kind == Kind::Tuple && pid.items.size() == 4 && pid.items[0]->kind == Kind::Str &&
        pid.items[0]->s == "module" &&
        (pid.items[1]->kind == Kind::Class || pid.items[1]->kind == Kind::Global))
      return pid.items[1];
    if (pid.kind != Kind::Tuple || pid.items.size() != 6 || pid.items[0]->kind != Kind::Str ||
        pid.items[0]->s != "storage" || pid.items[4]->kind != Kind::Int || pid.items[4]->i < 0)
      fail(path, "unexpected persistent id in a legacy checkpoint",
           "expected ('storage', type, key, location, numel, view_metadata)");
    StorageRef ref;
    set_storage_type(ref, *pid.items[1], path);
    ref.key = key_of(*pid.items[2], path);
    ref.numel = static_cast<uint64_t>(pid.items[4]->i);
    root_types[ref.key] = ref.storage_type;
    const Value& view = *pid.items[5];
    if (view.kind == Kind::Tuple) {
      // (view_key, offset, view_size): a view into the root storage `key`.
      if (view.items.size() != 3 || view.items[1]->kind != Kind::Int || view.items[1]->i < 0 ||
          view.items[2]->kind != Kind::Int || view.items[2]->i < 0)
        fail(path, "malformed storage view metadata");
      const uint64_t offset = static_cast<uint64_t>(view.items[1]->i);
      const uint64_t size = static_cast<uint64_t>(view.items[2]->i);
      if (offset > ref.numel || size > ref.numel - offset)
        fail(path, "storage view passes the end of storage '" + ref.key + "'");
      ref.view_of = ref.key;
      ref.key = key_of(*view.items[0], path);
      ref.view_offset = offset;
      ref.numel = size;
    } else if (view.kind != Kind::None) {
      fail(path, "malformed storage view metadata");
    }
    Value* v = out->unpickler->make(Kind::Storage);
    v->storage = table.get(std::move(ref));
    return v;
  };
  const std::string_view all(reinterpret_cast<const char*>(file->data()), file->size());
  out->unpickler = std::make_unique<pickle::Unpickler>(path, all, persistent_load);
  pickle::Unpickler& u = *out->unpickler;
  u.load();  // the magic number (checked by looks_like_legacy)
  const Value* protocol = u.load();
  if (protocol->kind != Kind::Int || protocol->i != kLegacyProtocolVersion)
    fail(path, "unsupported legacy protocol version", "expected 1001");
  const Value* sys_info = u.load();
  if (sys_info->kind == Kind::Dict)
    for (const auto& [k, v] : sys_info->entries)
      if (k->kind == Kind::Str && k->s == "little_endian" && v->kind == Kind::Bool && !v->i)
        fail(path, "big-endian checkpoint", "re-save it on a little-endian machine");
  out->root = u.load();
  const Value* keys = u.load();
  if (keys->kind != Kind::List) fail(path, "legacy checkpoint without its list of storage keys");
  size_t pos = u.position();
  constexpr size_t kCountBytes = 8;
  for (const Value* k : keys->items) {
    const std::string key = key_of(*k, path);
    auto type = root_types.find(key);
    if (type == root_types.end())
      fail(path, "legacy storage '" + key + "' is not used by any tensor");
    if (file->size() - pos < kCountBytes)
      fail(path, "truncated before storage '" + key + "'", "the file is incomplete");
    const uint64_t count = le(file->data() + pos, kCountBytes);
    pos += kCountBytes;
    uint64_t n = 0;
    if (__builtin_mul_overflow(count, dtype_from_storage(type->second)->element_size, &n) ||
        n > file->size() - pos)
      fail(path,
           "storage '" + key + "' declares " + std::to_string(count) +
               " elements, more than the file holds",
           "the file is truncated or crafted");
    out->storages[key] = {file->data() + pos, n};
    pos += n;
  }
  return out;
}

}  // namespace cnnscope
