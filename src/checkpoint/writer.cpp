// Writers for torch.save's zip format (through LibTorch's PyTorchStreamWriter, pickle written as
// torch/serialization.py's _save does: each storage written once, whole, and every tensor over it
// pickled with its offset, sizes and strides, so an expanded view stays as small as its storage)
// and safetensors (values only: a view is materialised when that is no larger than its storage or
// 64 MiB, else refused). Leaves out: non-CPU tensors (copied to CPU first).
#include "checkpoint/writer.h"

#include <caffe2/serialize/inline_container.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <exception>
#include <map>

#include "checkpoint/dtype.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace cnnscope {
namespace {

constexpr uint8_t kProto = 0x80, kPickleProtocol = 2;
constexpr char kMark = '(', kStop = '.', kTuple = 't', kEmptyTuple = ')', kReduce = 'R',
               kSetItems = 'u', kBinPersId = 'Q', kNewFalse = static_cast<char>(0x89),
               kBinUnicode = 'X', kBinInt = 'J', kLong1 = static_cast<char>(0x8a), kGlobal = 'c',
               kBinPut = 'q', kBinGet = 'h', kLongBinPut = 'r', kLongBinGet = 'j', kEmptyDict = '}',
               kSetItem = 's', kBuild = 'b', kNone = 'N', kNewTrue = static_cast<char>(0x88),
               kBinFloat = 'G', kEmptyList = ']', kAppends = 'e';
constexpr size_t kSafetensorsAlign = 8;
constexpr uint64_t kMaxViewGrowth = uint64_t{64} << 20;  // safetensors: bytes a view may add

// A pickle writer for exactly what a training checkpoint needs; globals are memoized like CPython
// does.
class PickleWriter {
 public:
  std::string out;

  void op(char c) { out.push_back(c); }
  void str(const std::string& s) {
    op(kBinUnicode);
    le(s.size(), 4);
    out += s;
  }
  void integer(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      op(kBinInt);
      le(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      op(kLong1);
      out.push_back(8);
      le(static_cast<uint64_t>(v), 8);
    }
  }
  void global(const std::string& module, const std::string& name) {
    const std::string key = module + "\n" + name + "\n";
    for (size_t i = 0; i < memo_.size(); ++i)
      if (memo_[i] == key) return get(i);
    op(kGlobal);
    out += key;
    put(memo_.size());
    memo_.push_back(key);
  }
  void real(double v) {  // BINFLOAT: big-endian IEEE 754 double
    op(kBinFloat);
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  void int_tuple(at::IntArrayRef values) {
    op(kMark);
    for (int64_t v : values) integer(v);
    op(kTuple);
  }

 private:
  void le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void put(size_t i) {
    if (i < 256) {
      op(kBinPut);
      out.push_back(static_cast<char>(i));
    } else {
      op(kLongBinPut);
      le(i, 4);
    }
  }
  void get(size_t i) {
    if (i < 256) {
      op(kBinGet);
      out.push_back(static_cast<char>(i));
    } else {
      op(kLongBinGet);
      le(i, 4);
    }
  }
  std::vector<std::string> memo_;
};

const DType& dtype_of(const std::string& name, const at::Tensor& t, const std::string& path) {
  const DType* d = dtype_from_scalar_type(t.scalar_type());
  if (!d || d->untyped_only)  // uint16/32/64, float8: torch needs _rebuild_tensor_v3 for them
    fail(path, "tensor '" + name + "' has a dtype cnnscope cannot write",
         "supported: float32/16/64, bfloat16, int8/16/32/64, uint8, bool");
  return *d;
}

// Pickles values into `p`; storages go to `data` (each a flat [numel] tensor over one whole CPU
// storage, once however many tensors view it).
class ValueWriter {
 public:
  ValueWriter(PickleWriter& p, std::vector<at::Tensor>& data, const std::string& path)
      : p_(p), data_(data), path_(path) {}

  void value(const PyValue& v) {
    switch (v.kind) {
      case PyValue::Kind::None:
        return p_.op(kNone);
      case PyValue::Kind::Bool:
        return p_.op(v.b ? kNewTrue : kNewFalse);
      case PyValue::Kind::Int:
        return p_.integer(v.i);
      case PyValue::Kind::Float:
        return p_.real(v.f);
      case PyValue::Kind::Str:
        return p_.str(v.s);
      case PyValue::Kind::Tensor:
        return tensor("", v.tensor);
      case PyValue::Kind::List:
        p_.op(kEmptyList);
        if (v.items.empty()) return;
        p_.op(kMark);
        for (const PyValue& item : v.items) value(item);
        return p_.op(kAppends);
      case PyValue::Kind::Tuple:
        p_.op(kMark);
        for (const PyValue& item : v.items) value(item);
        return p_.op(kTuple);
      case PyValue::Kind::Dict:
        p_.op(kEmptyDict);
        if (v.entries.empty()) return;
        p_.op(kMark);
        for (const auto& [key, item] : v.entries) {
          value(key);
          value(item);
        }
        return p_.op(kSetItems);
      case PyValue::Kind::StateDict:
        return state_dict(*v.state_dict);
    }
  }

  void state_dict(const StateDict& sd) {
    p_.global("collections", "OrderedDict");
    p_.op(kEmptyTuple);
    p_.op(kReduce);
    p_.op(kMark);
    for (const NamedTensor& t : sd.tensors) {
      p_.str(t.name);
      tensor(t.name, t.tensor);
    }
    p_.op(kSetItems);
    if (sd.versions.empty()) return;
    // the OrderedDict's __dict__: {"_metadata": {prefix: {"version": v}}}
    p_.op(kEmptyDict);
    p_.str("_metadata");
    p_.global("collections", "OrderedDict");
    p_.op(kEmptyTuple);
    p_.op(kReduce);
    p_.op(kMark);
    for (const auto& [prefix, version] : sd.versions) {
      p_.str(prefix);
      p_.op(kEmptyDict);
      p_.str("version");
      p_.integer(version);
      p_.op(kSetItem);
    }
    p_.op(kSetItems);
    p_.op(kSetItem);
    p_.op(kBuild);
  }

 private:
  void tensor(const std::string& name, const at::Tensor& t) {
    const DType& dtype = dtype_of(name, t, path_);
    at::Tensor c = t.detach().to(at::kCPU);
    if (c.storage().nbytes() % dtype.element_size != 0)  // a storage shared with another dtype
      c = c.clone(at::MemoryFormat::Contiguous);         // [same shape], its own storage
    const auto numel = static_cast<int64_t>(c.storage().nbytes() / dtype.element_size);
    const auto key = std::make_pair(c.storage().unsafeGetStorageImpl(), c.scalar_type());
    auto [it, added] = storage_keys_.emplace(key, data_.size());
    if (added) data_.push_back(c.as_strided({numel}, {1}, 0));  // the whole storage
    p_.global("torch._utils", "_rebuild_tensor_v2");
    p_.op(kMark);
    p_.op(kMark);
    p_.str("storage");
    p_.global("torch", dtype.storage);
    p_.str(std::to_string(it->second));
    p_.str("cpu");
    p_.integer(numel);
    p_.op(kTuple);
    p_.op(kBinPersId);
    p_.integer(c.storage_offset());
    p_.int_tuple(c.sizes());
    p_.int_tuple(c.strides());
    p_.op(kNewFalse);                         // requires_grad
    p_.global("collections", "OrderedDict");  // backward hooks
    p_.op(kEmptyTuple);
    p_.op(kReduce);
    p_.op(kTuple);
    p_.op(kReduce);
  }

  PickleWriter& p_;
  std::vector<at::Tensor>& data_;
  const std::string& path_;
  std::map<std::pair<const c10::StorageImpl*, at::ScalarType>, size_t> storage_keys_;
};

}  // namespace

PyValue PyValue::boolean(bool v) {
  PyValue r;
  r.kind = Kind::Bool;
  r.b = v;
  return r;
}
PyValue PyValue::integer(int64_t v) {
  PyValue r;
  r.kind = Kind::Int;
  r.i = v;
  return r;
}
PyValue PyValue::real(double v) {
  PyValue r;
  r.kind = Kind::Float;
  r.f = v;
  return r;
}
PyValue PyValue::str(std::string v) {
  PyValue r;
  r.kind = Kind::Str;
  r.s = std::move(v);
  return r;
}
PyValue PyValue::of(at::Tensor t) {
  PyValue r;
  r.kind = Kind::Tensor;
  r.tensor = std::move(t);
  return r;
}
PyValue PyValue::list(std::vector<PyValue> v) {
  PyValue r;
  r.kind = Kind::List;
  r.items = std::move(v);
  return r;
}
PyValue PyValue::tuple(std::vector<PyValue> v) {
  PyValue r;
  r.kind = Kind::Tuple;
  r.items = std::move(v);
  return r;
}
PyValue PyValue::dict() {
  PyValue r;
  r.kind = Kind::Dict;
  return r;
}
PyValue PyValue::of(std::shared_ptr<const StateDict> sd) {
  PyValue r;
  r.kind = Kind::StateDict;
  r.state_dict = std::move(sd);
  return r;
}
PyValue& PyValue::set(PyValue key, PyValue value) {
  entries.push_back({std::move(key), std::move(value)});
  return *this;
}

void save_pth(const PyValue& value, const std::string& path) {
  AtomicFile file(path);
  std::vector<at::Tensor> data;  // [numel] over each whole CPU storage
  PickleWriter p;
  p.out.push_back(static_cast<char>(kProto));
  p.out.push_back(static_cast<char>(kPickleProtocol));
  ValueWriter(p, data, path).value(value);
  p.op(kStop);

  // The stream writer must never see an exception (its destructor writes, and a throw there
  // aborts): the first failed write is kept and rethrown once the writer is gone.
  std::exception_ptr write_failure;
  try {
    caffe2::serialize::PyTorchStreamWriter writer(
        [&file, &write_failure](const void* buf, size_t n) -> size_t {
          if (write_failure) return n;
          try {
            file.write(buf, n);
          } catch (const Error&) {
            write_failure = std::current_exception();
          }
          return n;
        });
    writer.writeRecord("data.pkl", p.out.data(), p.out.size());
    for (size_t i = 0; i < data.size(); ++i)
      writer.writeRecord("data/" + std::to_string(i), data[i].data_ptr(), data[i].nbytes());
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    if (write_failure) std::rethrow_exception(write_failure);
    std::string msg = e.what_without_backtrace();
    fail(path, "cannot write checkpoint: " + msg.substr(0, msg.find('\n')));
  }
  if (write_failure) std::rethrow_exception(write_failure);
  file.commit();
}

void save_pth(const StateDict& sd, const std::string& path) {
  save_pth(PyValue::of(std::shared_ptr<const StateDict>(&sd, [](const StateDict*) {})), path);
}

void save_safetensors(const StateDict& sd, const std::string& path) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::vector<at::Tensor> data;
  uint64_t offset = 0;
  for (const NamedTensor& t : sd.tensors) {
    if (t.name == "__metadata__")
      fail(path, "a tensor named '__metadata__' cannot be stored in safetensors");
    const DType& dtype = dtype_of(t.name, t.tensor, path);
    const at::Tensor cpu = t.tensor.detach().to(at::kCPU);
    const uint64_t n = cpu.nbytes(), stored = cpu.storage().nbytes();
    if (n > stored && n - stored > kMaxViewGrowth)
      fail(path,
           "tensor '" + t.name + "' is a view of " + std::to_string(n) +
               " bytes over a storage of " + std::to_string(stored) +
               "; safetensors holds values only",
           "write .pth, which keeps the view as torch.save does");
    at::Tensor c = cpu.contiguous();  // [same shape]
    header[t.name] = {{"dtype", dtype.safetensors},
                      {"shape", c.sizes().vec()},
                      {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(c);
  }
  std::string text = header.dump();
  text.append((kSafetensorsAlign - text.size() % kSafetensorsAlign) % kSafetensorsAlign, ' ');
  AtomicFile file(path);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>((uint64_t{text.size()} >> (8 * i)));
  file.write(len, sizeof len);
  file.write(text);
  for (const at::Tensor& c : data) file.write(c.data_ptr(), c.nbytes());
  file.commit();
}

}  // namespace cnnscope
