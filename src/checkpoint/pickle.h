// A restricted unpickler for the pickles inside torch.save files and TorchScript archives:
// protocols 0-5 as CPython's Lib/pickletools.py documents them, nothing executed. Allowlisted
// globals are the only ones called (by cnnscope's own code for them); any other class is kept by
// name and instantiated (NEWOBJ/OBJ/INST, copyreg._reconstructor) only as an opaque Object whose
// BUILD state is kept; modules that hold gadgets (os, builtins, subprocess, ...) are refused on
// sight. Leaves out: EXT*, out-of-band buffers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cnnscope::pickle {

struct Value;

// A storage as named by a persistent id: raw bytes found later by `key`.
struct StorageRef {
  std::string key;
  std::string storage_type;  // "FloatStorage", ... ("UntypedStorage": bytes)
  uint64_t numel = 0;        // elements of `storage_type`, as the pickle declares
  std::string view_of;       // legacy format: key of the root storage ("" when not a view)
  uint64_t view_offset = 0;  // legacy format: element offset into the root storage
  std::string quantized;     // "qint8" | "quint8" | "qint32" for torch.QInt8Storage ...: the
                             // integers of a quantized tensor (storage_type: their int storage)
};

struct TensorRef;

// How `torch._utils._rebuild_qtensor` quantized a tensor (torch/_tensor.py, _reduce_ex_internal).
struct QuantizerRef {
  std::string scheme;  // "per_tensor_affine" | "per_channel_affine"
  double scale = 0;    // per tensor
  int64_t zero_point = 0;
  std::shared_ptr<TensorRef> scales;       // per channel: [C] float64
  std::shared_ptr<TensorRef> zero_points;  // per channel: [C] int64
  int64_t axis = 0;
};

// A tensor as `torch._utils._rebuild_tensor_v2` describes it; materialised later.
struct TensorRef {
  std::shared_ptr<StorageRef> storage;
  int64_t storage_offset = 0;  // elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  bool parameter = false;
  std::shared_ptr<QuantizerRef> quantizer;  // set for quantized tensors
};

enum class Kind {
  None,
  Bool,
  Int,
  BigInt,  // an integer wider than 64 bits: kept as its byte count only
  Float,
  Str,
  Bytes,
  Tuple,
  List,
  Dict,
  Set,
  Global,  // an allowlisted callable or type, "module.name"
  Storage,
  Tensor,
  Class,   // any other global, "module.name": never called, only instantiated as an Object
  Object,  // an instance of a Class (a module of a whole-model pickle, numpy.dtype, ...)
};

// Values live in the Unpickler's arena; containers hold plain pointers (a pickle may build
// cycles through the memo: traversals must bound their depth).
struct Value {
  Kind kind = Kind::None;
  int64_t i = 0;              // Bool, Int, BigInt (bytes)
  double f = 0;               // Float
  std::string s;              // Str, Bytes, Global, Class, Object's class
  std::string numpy;          // Bool/Int/Float read from a numpy scalar: its type ("float64")
  std::vector<Value*> items;  // Tuple, List, Set; Object: its arguments
  std::vector<std::pair<Value*, Value*>> entries;  // Dict, in insertion order
  std::shared_ptr<StorageRef> storage;             // Storage
  std::shared_ptr<TensorRef> tensor;               // Tensor
  Value* state = nullptr;                          // Object: its BUILD state (`__dict__`), if any
};

// Turns the tuple of a BINPERSID into a Storage value (or throws).
using PersistentLoad = std::function<Value*(const Value& pid)>;

class Unpickler {
 public:
  // `source` names the file in error messages; `data` must outlive load().
  Unpickler(std::string source, std::string_view data, PersistentLoad persistent_load);

  // Runs until STOP; returns the top of the stack. Throws Error on anything not allowed.
  Value* load();
  // Bytes consumed by load() (legacy files hold several pickles back to back).
  size_t position() const { return pos_; }

  Value* make(Kind kind);

 private:
  struct Ops;  // one function per opcode (pickle_ops.cpp)

  [[noreturn]] void bad(const std::string& what) const;
  uint8_t byte();
  std::string_view take(uint64_t n);
  std::string_view line();
  uint64_t read_le(size_t n);
  Value* pop();
  Value* top();
  std::vector<Value*> pop_mark();
  Value* global(const std::string& module, const std::string& name);
  Value* reduce(Value* callable, Value* args);
  Value* rebuild_tensor(const Value& args, bool v2);
  Value* rebuild_qtensor(const std::vector<Value*>& a);
  Value* instantiate(Value* cls, Value* args);
  Value* numpy_scalar(const std::vector<Value*>& a);
  void build(Value* obj, Value* state);
  Value* make_int(int64_t v);
  Value* make_long(std::string_view bytes);
  void memo_put(uint64_t index, Value* v);
  Value* memo_get(uint64_t index) const;
  void set_items(Value* dict, const std::vector<Value*>& kv);

  std::string source_;
  std::string_view data_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  PersistentLoad persistent_load_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  std::vector<std::unique_ptr<Value>> arena_;
};

// Python-like one-line text of a non-tensor value: 7, 0.5, 'sgd', [0, 1, ...], {...}; numpy values
// as numpy 2 prints them (np.float64(0.5), dtype('int32')), small arrays as
// array([0.0, 1.0], dtype=float64), other objects as <Module.Class object>. Bounded: 3 levels, 8
// items a level, the first 256 bytes of a string.
std::string repr(const Value& v, int depth = 0);

// Elements of a tuple/list value as int64 (for sizes, strides) into `out`; false when `v` is not
// a tuple/list of ints (the caller reports it).
bool as_int_list(const Value& v, std::vector<int64_t>& out);

// The value of `key` in a Dict value (keys compared as strings), or nullptr.
const Value* dict_get(const Value& dict, const std::string& key);

}  // namespace cnnscope::pickle
