// Writers for torch.save's zip format (through LibTorch's PyTorchStreamWriter, pickle written as
// torch/serialization.py's _save does) and safetensors. Leaves out: sharing storages between views
// (each tensor gets its own), non-CPU tensors (copied to CPU first).
#include "checkpoint/writer.h"

#include <caffe2/serialize/inline_container.h>

#include <nlohmann/json.hpp>

#include <cstring>

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
               kSetItem = 's', kBuild = 'b';
constexpr size_t kSafetensorsAlign = 8;

// A pickle writer for exactly what a state_dict needs; globals are memoized like CPython does.
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

const DType& dtype_of(const StateDict& sd, const NamedTensor& t, const std::string& path) {
  const DType* d = dtype_from_scalar_type(t.tensor.scalar_type());
  if (!d || d->untyped_only)  // uint16/32/64, float8: torch needs _rebuild_tensor_v3 for them
    fail(path, "tensor '" + t.name + "' has a dtype cnnscope cannot write",
         "supported: float32/16/64, bfloat16, int8/16/32/64, uint8, bool");
  return *d;
}

}  // namespace

void save_pth(const StateDict& sd, const std::string& path) {
  AtomicFile file(path);
  std::vector<at::Tensor> data;  // contiguous CPU copies, one storage each
  PickleWriter p;
  p.out.push_back(static_cast<char>(kProto));
  p.out.push_back(static_cast<char>(kPickleProtocol));
  p.global("collections", "OrderedDict");
  p.op(kEmptyTuple);
  p.op(kReduce);
  p.op(kMark);
  for (const NamedTensor& t : sd.tensors) {
    const DType& dtype = dtype_of(sd, t, path);
    at::Tensor c = t.tensor.detach().to(at::kCPU).contiguous();  // [same shape]
    p.str(t.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op(kMark);
    p.op(kMark);
    p.str("storage");
    p.global("torch", dtype.storage);
    p.str(std::to_string(data.size()));
    p.str("cpu");
    p.integer(c.numel());
    p.op(kTuple);
    p.op(kBinPersId);
    p.integer(0);  // storage offset
    p.int_tuple(c.sizes());
    p.int_tuple(c.strides());
    p.op(kNewFalse);                         // requires_grad
    p.global("collections", "OrderedDict");  // backward hooks
    p.op(kEmptyTuple);
    p.op(kReduce);
    p.op(kTuple);
    p.op(kReduce);
    data.push_back(c);
  }
  p.op(kSetItems);
  if (!sd.versions
           .empty()) {  // the OrderedDict's __dict__: {"_metadata": {prefix: {"version": v}}}
    p.op(kEmptyDict);
    p.str("_metadata");
    p.global("collections", "OrderedDict");
    p.op(kEmptyTuple);
    p.op(kReduce);
    p.op(kMark);
    for (const auto& [prefix, version] : sd.versions) {
      p.str(prefix);
      p.op(kEmptyDict);
      p.str("version");
      p.integer(version);
      p.op(kSetItem);
    }
    p.op(kSetItems);
    p.op(kSetItem);
    p.op(kBuild);
  }
  p.op(kStop);

  try {
    caffe2::serialize::PyTorchStreamWriter writer([&file](const void* buf, size_t n) -> size_t {
      file.write(buf, n);
      return n;
    });
    writer.writeRecord("data.pkl", p.out.data(), p.out.size());
    for (size_t i = 0; i < data.size(); ++i)
      writer.writeRecord("data/" + std::to_string(i), data[i].data_ptr(), data[i].nbytes());
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    fail(path, "cannot write checkpoint: " + msg.substr(0, msg.find('\n')));
  }
  file.commit();
}

void save_safetensors(const StateDict& sd, const std::string& path) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::vector<at::Tensor> data;
  uint64_t offset = 0;
  for (const NamedTensor& t : sd.tensors) {
    if (t.name == "__metadata__")
      fail(path, "a tensor named '__metadata__' cannot be stored in safetensors");
    const DType& dtype = dtype_of(sd, t, path);
    at::Tensor c = t.tensor.detach().to(at::kCPU).contiguous();  // [same shape]
    const uint64_t n = c.nbytes();
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
