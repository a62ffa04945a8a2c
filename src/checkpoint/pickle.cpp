// The restricted unpickler's calls and globals: an allowlist of globals that cnnscope's own code
// stands in for (tensor, quantized tensor, OrderedDict, numpy scalar/dtype/array rebuilds), other
// classes kept by name and instantiated only as opaque Objects (INST/OBJ/NEWOBJ/NEWOBJ_EX,
// copyreg._reconstructor) with their BUILD state, gadget modules refused by name, and the
// bounds-checked primitives the opcodes use (values, stack, marks, memo, lengths). The opcodes
// are pickle_ops.cpp's, numpy decoding pickle_numpy.cpp's, printing pickle_repr.cpp's. Spec:
// pickletools.py; torch/_utils.py (_rebuild_tensor*, _rebuild_qtensor); torch/jit/_pickle.py.
#include "checkpoint/pickle.h"

#include <set>

#include "checkpoint/dtype.h"
#include "checkpoint/pickle_numpy.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope::pickle {
namespace {

constexpr size_t kMaxValues = size_t{1} << 24;  // far above any real checkpoint's pickle

const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> names = [] {
    std::set<std::string> s = {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.nn.parameter.Parameter",
        "torch.Tensor",
        "torch.Size",
        "torch.device",
        "torch.UntypedStorage",
        "torch.storage.UntypedStorage",
        "torch.storage._LegacyStorage",
        "builtins.set",
        "builtins.frozenset",
        "builtins.object",  // copyreg._reconstructor's base class: named, never called
        "_codecs.encode",
        "copyreg._reconstructor",
        // Quantized tensors.
        "torch._utils._rebuild_qtensor",
        "torch.per_tensor_affine",
        "torch.per_channel_affine",
        "torch.qint8",
        "torch.quint8",
        "torch.qint32",
        "torch.QInt8Storage",
        "torch.QUInt8Storage",
        "torch.QInt32Storage",
        // TorchScript's data.pkl: typed lists, identity here.
        "torch.jit._pickle.build_intlist",
        "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.build_doublelist",
        "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_genericlist",
        "torch.jit._pickle.restore_type_tag",
        // numpy values in training checkpoints (numpy 1.x and 2.x module names).
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.dtype",
        "numpy.ndarray",
    };
    for (const DType& d : all_dtypes()) {
      if (!d.untyped_only) s.insert(std::string("torch.") + d.storage);
      s.insert(std::string("torch.") + d.torch_name);
    }
    for (const char* alias : {"float", "half", "double", "long", "int", "short"})
      s.insert(std::string("torch.") + alias);
    // torch 2.x's _rebuild_tensor_v3 dtypes, named even where this LibTorch lacks them, so that
    // _rebuild_tensor_v3 can say which LibTorch reads them.
    for (const char* name : {"uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2"})
      s.insert(std::string("torch.") + name);
    return s;
  }();
  return names;
}

bool is_int(const Value* v) {
  return v->kind == Kind::Int || v->kind == Kind::Bool;
}

// Modules whose names are gadgets (code execution, attribute access, file or network I/O): a
// pickle that names anything in them is refused even where it would only be kept by name.
// Everything under torch and numpy that is not allowlisted is refused too, except the namespaces
// of nn.Module classes (whole-model pickles name them).
bool refused_module(const std::string& module) {
  static const std::set<std::string> roots = {"builtins",    "os",
                                              "posix",       "nt",
                                              "subprocess",  "sys",
                                              "shutil",      "socket",
                                              "importlib",   "pickle",
                                              "_pickle",     "marshal",
                                              "runpy",       "code",
                                              "codeop",      "ctypes",
                                              "_ctypes",     "operator",
                                              "_operator",   "functools",
                                              "_functools",  "types",
                                              "io",          "_io",
                                              "pty",         "webbrowser",
                                              "codecs",      "_codecs",
                                              "copyreg",     "copy_reg",
                                              "pdb",         "bdb",
                                              "timeit",      "multiprocessing",
                                              "asyncio",     "signal",
                                              "threading",   "_thread",
                                              "platform",    "tempfile",
                                              "pathlib",     "glob",
                                              "inspect",     "commands",
                                              "popen2",      "posixpath",
                                              "ntpath",      "pip",
                                              "setuptools",  "pkgutil",
                                              "zipimport",   "site",
                                              "gc",          "weakref",
                                              "ast",         "dis",
                                              "urllib",      "http",
                                              "ftplib",      "smtplib",
                                              "telnetlib",   "sqlite3",
                                              "shelve",      "dbm",
                                              "logging",     "numpy",
                                              "torch",       "torchvision.io",
                                              "dill",        "joblib",
                                              "cloudpickle", "yaml",
                                              "requests",    "fsspec",
                                              "sympy"};
  for (const char* allowed :
       {"torch.nn.", "torch.ao.nn.", "torch.ao.quantization.", "torch.quantization."})
    if (starts_with(module + ".", allowed)) return false;
  for (size_t start = 0;;) {  // "a", "a.b", "a.b.c"
    const size_t dot = module.find('.', start);
    if (roots.count(module.substr(0, dot))) return true;
    if (dot == std::string::npos) return false;
    start = dot + 1;
  }
}

// Latin-1 bytes of a UTF-8 string (what `_codecs.encode(s, 'latin1')` gives); false if not latin-1.
bool utf8_to_latin1(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c & 0xe0) == 0xc0 && i + 1 < in.size() && c <= 0xc3) {
      out.push_back(static_cast<char>(((c & 0x1f) << 6) | (in[++i] & 0x3f)));
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Unpickler::Unpickler(std::string source, std::string_view data, PersistentLoad persistent_load)
    : source_(std::move(source)), data_(data), persistent_load_(std::move(persistent_load)) {}

void Unpickler::bad(const std::string& what) const {
  fail(source_, "pickle: " + what + " (opcode at byte " + std::to_string(op_pos_) + ")",
       "the file is damaged or not a PyTorch checkpoint");
}

Value* Unpickler::make(Kind kind) {
  if (arena_.size() >= kMaxValues) bad("more than " + std::to_string(kMaxValues) + " values");
  arena_.push_back(std::make_unique<Value>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

uint8_t Unpickler::byte() {
  if (pos_ >= data_.size()) bad("truncated: ends before STOP");
  return static_cast<uint8_t>(data_[pos_++]);
}

std::string_view Unpickler::take(uint64_t n) {
  if (n > data_.size() - pos_)
    bad("truncated: needs " + std::to_string(n) + " bytes, " + std::to_string(data_.size() - pos_) +
        " left");
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

std::string_view Unpickler::line() {
  size_t end = data_.find('\n', pos_);
  if (end == std::string_view::npos) bad("truncated: text argument without newline");
  std::string_view out = data_.substr(pos_, end - pos_);
  pos_ = end + 1;
  return out;
}

uint64_t Unpickler::read_le(size_t n) {
  std::string_view b = take(n);
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

Value* Unpickler::pop() {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) bad("stack underflow");
  Value* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Unpickler::top() {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) bad("stack underflow");
  return stack_.back();
}

std::vector<Value*> Unpickler::pop_mark() {
  if (marks_.empty()) bad("no MARK on the stack");
  size_t m = marks_.back();
  marks_.pop_back();
  std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

void Unpickler::memo_put(uint64_t index, Value* v) {
  memo_[index] = v;
}

Value* Unpickler::memo_get(uint64_t index) const {
  auto it = memo_.find(index);
  if (it == memo_.end())
    bad("memo index " + std::to_string(index) + " out of range (memo holds " +
        std::to_string(memo_.size()) + " values)");
  return it->second;
}

Value* Unpickler::make_int(int64_t v) {
  Value* out = make(Kind::Int);
  out->i = v;
  return out;
}

Value* Unpickler::make_long(std::string_view bytes) {
  if (bytes.size() > sizeof(int64_t)) {
    Value* out = make(Kind::BigInt);
    out->i = static_cast<int64_t>(bytes.size());
    return out;
  }
  uint64_t v = 0;
  for (size_t i = bytes.size(); i-- > 0;) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  if (!bytes.empty() && bytes.size() < sizeof(int64_t) && (bytes.back() & 0x80))
    v |= ~uint64_t{0} << (8 * bytes.size());  // sign-extend two's complement
  return make_int(static_cast<int64_t>(v));
}

void Unpickler::set_items(Value* dict, const std::vector<Value*>& kv) {
  if (dict->kind != Kind::Dict) bad("SETITEM(S) on a value that is not a dict");
  if (kv.size() % 2) bad("SETITEMS with an odd number of items");
  for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
}

Value* Unpickler::global(const std::string& module, const std::string& name) {
  std::string mod = module == "__builtin__" ? "builtins"
                    : module == "copy_reg"  ? "copyreg"
                                            : module;
  std::string full = mod + "." + name;
  if (allowed_globals().count(full)) {
    Value* v = make(Kind::Global);
    v->s = full;
    return v;
  }
  if (refused_module(mod) || mod.empty() || name.empty())
    fail(source_, "pickle refers to global '" + full + "', which is not allowed",
         "cnnscope executes nothing from a checkpoint; it reads tensors, containers, plain values "
         "and the state of model classes, never functions of this module");
  Value* v = make(Kind::Class);  // kept by name; calling it is refused in reduce()
  v->s = full;
  return v;
}

Value* Unpickler::rebuild_tensor(const Value& args, bool v2) {
  const size_t need = v2 ? 6 : 4;
  if (args.kind != Kind::Tuple || args.items.size() < need)
    bad("tensor rebuild expects (storage, offset, size, stride, ...)");
  const Value& storage = *args.items[0];
  if (storage.kind != Kind::Storage) bad("tensor rebuild without a storage");
  auto t = std::make_shared<TensorRef>();
  t->storage = storage.storage;
  if (!is_int(args.items[1]) || args.items[1]->i < 0) bad("tensor storage offset is not >= 0");
  t->storage_offset = args.items[1]->i;
  if (!as_int_list(*args.items[2], t->sizes) || !as_int_list(*args.items[3], t->strides))
    bad("tensor size/stride is not a tuple of integers");
  if (t->sizes.size() != t->strides.size() || t->sizes.size() > kMaxDims)
    bad("tensor size and stride differ in length or have over " + std::to_string(kMaxDims) +
        " dims");
  // Highest element index the view touches must lie inside the storage's declared elements.
  uint64_t last = static_cast<uint64_t>(t->storage_offset);
  bool empty = false;
  for (size_t d = 0; d < t->sizes.size(); ++d) {
    if (t->sizes[d] < 0 || t->strides[d] < 0) bad("negative tensor size or stride");
    if (t->sizes[d] == 0) empty = true;
  }
  if (!empty) {
    for (size_t d = 0; d < t->sizes.size(); ++d) {
      uint64_t step = 0;
      if (__builtin_mul_overflow(static_cast<uint64_t>(t->sizes[d] - 1),
                                 static_cast<uint64_t>(t->strides[d]), &step) ||
          __builtin_add_overflow(last, step, &last))
        bad("tensor extent overflows");
    }
    if (last >= t->storage->numel)
      fail(source_,
           "tensor view reaches element " + std::to_string(last) + " of storage '" +
               t->storage->key + "', which holds " + std::to_string(t->storage->numel),
           "the checkpoint is damaged or crafted");
  }
  Value* v = make(Kind::Tensor);
  v->tensor = std::move(t);
  return v;
}

Value* Unpickler::rebuild_qtensor(const std::vector<Value*>& a) {
  // (storage, offset, size, stride, quantizer_params, requires_grad, backward_hooks) with
  // quantizer_params (per_tensor_affine, scale, zero_point) or
  // (per_channel_affine, scales, zero_points, axis).
  if (a.size() < 5 || a[0]->kind != Kind::Storage || a[4]->kind != Kind::Tuple ||
      a[4]->items.empty() || a[4]->items[0]->kind != Kind::Global)
    bad("_rebuild_qtensor expects (storage, offset, size, stride, quantizer_params, ...)");
  if (a[0]->storage->quantized.empty())
    bad("_rebuild_qtensor over a storage that is not QInt8/QUInt8/QInt32Storage");
  Value* plain = make(Kind::Tuple);
  plain->items = {a[0], a[1], a[2], a[3]};
  Value* t = rebuild_tensor(*plain, false);
  auto q = std::make_shared<QuantizerRef>();
  const std::vector<Value*>& p = a[4]->items;
  q->scheme = p[0]->s.substr(p[0]->s.rfind('.') + 1);
  if (q->scheme == "per_tensor_affine") {
    if (p.size() != 3 || (p[1]->kind != Kind::Float && !is_int(p[1])) || !is_int(p[2]))
      bad("per_tensor_affine expects (scheme, scale, zero_point)");
    q->scale = p[1]->kind == Kind::Float ? p[1]->f : static_cast<double>(p[1]->i);
    q->zero_point = p[2]->i;
  } else if (q->scheme == "per_channel_affine") {
    if (p.size() != 4 || p[1]->kind != Kind::Tensor || p[2]->kind != Kind::Tensor ||
        !is_int(p[3]) || p[1]->tensor->quantizer || p[2]->tensor->quantizer)
      bad("per_channel_affine expects (scheme, scales, zero_points, axis)");
    q->scales = p[1]->tensor;
    q->zero_points = p[2]->tensor;
    q->axis = p[3]->i;
    const auto& sizes = t->tensor->sizes;
    if (q->axis < 0 || q->axis >= static_cast<int64_t>(sizes.size()) ||
        q->scales->sizes.size() != 1 || q->zero_points->sizes.size() != 1 ||
        q->scales->sizes[0] != sizes[static_cast<size_t>(q->axis)] ||
        q->zero_points->sizes[0] != sizes[static_cast<size_t>(q->axis)])
      fail(source_,
           "per-channel quantized tensor: axis " + std::to_string(q->axis) +
               " and its scales/zero points do not fit its shape",
           "the checkpoint is damaged or crafted");
  } else {
    fail(source_, "quantized tensor with scheme '" + q->scheme + "'",
         "cnnscope reads per_tensor_affine and per_channel_affine quantized tensors");
  }
  t->tensor->quantizer = std::move(q);
  return t;
}

Value* Unpickler::instantiate(Value* cls, Value* args) {
  if (cls->kind != Kind::Class && cls->kind != Kind::Global)
    bad("object construction from a value that is not a class");
  if (cls->s == "collections.OrderedDict") return make(Kind::Dict);
  if (cls->s == "builtins.set" || cls->s == "builtins.frozenset") return make(Kind::Set);
  Value* obj = make(Kind::Object);  // nothing runs: the class is only its name
  obj->s = cls->s;
  if (args->kind == Kind::Tuple) obj->items = args->items;
  return obj;
}

void Unpickler::build(Value* obj, Value* state) {
  if (obj->kind == Kind::Object) {
    obj->state = state;  // a module's __dict__, numpy's (version, shape, dtype, ...) tuple
    return;
  }
  if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor && obj->kind != Kind::Set)
    bad("BUILD on a value that takes no state");
  // OrderedDict's `_metadata`, a tensor's empty dict: not needed.
}

Value* Unpickler::reduce(Value* callable, Value* args) {
  if (callable->kind == Kind::Class)
    fail(source_, "pickle calls '" + callable->s + "', which cnnscope does not call",
         "cnnscope executes nothing from a checkpoint: classes are only kept by name with their "
         "state; save model.state_dict() for a file any tool can read");
  if (callable->kind != Kind::Global) bad("REDUCE on a value that is not a callable");
  if (args->kind != Kind::Tuple) bad("REDUCE arguments are not a tuple");
  const std::string& f = callable->s;
  const std::vector<Value*>& a = args->items;
  if (f == "torch._utils._rebuild_qtensor") return rebuild_qtensor(a);
  if (f == "copyreg._reconstructor") {
    // (cls, base, state): object.__new__(cls); its state comes with a later BUILD.
    if (a.size() != 3) bad("copyreg._reconstructor expects (cls, base, state)");
    Value* empty = make(Kind::Tuple);
    return instantiate(a[0], empty);
  }
  if (starts_with(f, "torch.jit._pickle.build_") || f == "torch.jit._pickle.restore_type_tag") {
    if (a.empty()) bad(f + " without a value");
    return a[0];  // the list (or value) itself: TorchScript's type tags are not needed here
  }
  if (f == "numpy.dtype") {
    // numpy.dtype(code, align, copy): kept as an Object; BUILD adds (version, byte order, ...).
    if (a.empty() || a[0]->kind != Kind::Str) bad("numpy.dtype expects a type code");
    Value* d = make(Kind::Object);
    d->s = f;
    d->items = a;
    return d;
  }
  if (f == "numpy.core.multiarray.scalar" || f == "numpy._core.multiarray.scalar")
    return numpy_scalar(a);
  if (f == "numpy.core.multiarray._reconstruct" || f == "numpy._core.multiarray._reconstruct") {
    // _reconstruct(ndarray, (0,), b'b'): an empty array; BUILD brings shape, dtype and bytes.
    if (a.empty() || a[0]->kind != Kind::Global || a[0]->s != "numpy.ndarray")
      bad("_reconstruct expects numpy.ndarray");
    Value* arr = make(Kind::Object);
    arr->s = "numpy.ndarray";
    return arr;
  }
  if (f == "collections.OrderedDict") {
    Value* d = make(Kind::Dict);
    if (a.empty()) return d;
    if (a.size() == 1 && (a[0]->kind == Kind::List || a[0]->kind == Kind::Tuple)) {
      for (Value* pair : a[0]->items) {
        if (pair->kind != Kind::Tuple || pair->items.size() != 2)
          bad("OrderedDict items are not pairs");
        d->entries.emplace_back(pair->items[0], pair->items[1]);
      }
      return d;
    }
    bad("OrderedDict called with unexpected arguments");
  }
  if (f == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(*args, true);
  if (f == "torch._utils._rebuild_tensor") return rebuild_tensor(*args, false);
  if (f == "torch._utils._rebuild_tensor_v3") {
    // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]) over an untyped
    // storage counted in bytes: how torch 2.x saves uint16/32/64 and float8. The storage is seen
    // as elements of the dtype, then rebuilt as v2 does.
    if (a.size() < 7 || a[0]->kind != Kind::Storage || a[6]->kind != Kind::Global)
      bad("_rebuild_tensor_v3 expects (storage, offset, size, stride, ..., dtype)");
    const std::string name = a[6]->s.substr(a[6]->s.rfind('.') + 1);
    const DType* d = dtype_from_torch_name(name);
    if (!d)
      fail(source_, "tensor of dtype " + name + ", which this build's LibTorch cannot hold",
           "uint16/32/64 and float8 need LibTorch 2.3 or later: make build TORCH=wheel");
    const StorageRef& bytes = *a[0]->storage;
    if (bytes.storage_type != "ByteStorage" || bytes.numel % d->element_size != 0)
      bad("_rebuild_tensor_v3 storage is not untyped bytes in whole " + name + " elements");
    auto typed = std::make_shared<StorageRef>(bytes);
    typed->storage_type = d->storage;
    typed->numel = bytes.numel / d->element_size;
    Value* storage = make(Kind::Storage);
    storage->storage = std::move(typed);
    Value* v2 = make(Kind::Tuple);
    v2->items = {storage, a[1], a[2], a[3], a[4], a[5]};
    return rebuild_tensor(*v2, true);
  }
  if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
    if (a.empty() || a[0]->kind != Kind::Tensor) bad("parameter rebuild without a tensor");
    a[0]->tensor->parameter = true;
    return a[0];
  }
  if (f == "torch._tensor._rebuild_from_type_v2") {
    if (a.size() < 3) bad("_rebuild_from_type_v2 expects (func, type, args, state)");
    return reduce(a[0], a[2]);
  }
  if (f == "torch.Size") {
    if (a.size() != 1 || a[0]->kind != Kind::Tuple) bad("torch.Size expects one tuple");
    return a[0];
  }
  if (f == "torch.device") {
    if (a.empty() || a[0]->kind != Kind::Str) bad("torch.device expects a string");
    Value* v = make(Kind::Str);
    v->s = a[0]->s;
    if (a.size() > 1 && a[1]->kind == Kind::Int) v->s += ":" + std::to_string(a[1]->i);
    return v;
  }
  if (f == "builtins.set" || f == "builtins.frozenset") {
    Value* s = make(Kind::Set);
    if (a.size() == 1 && (a[0]->kind == Kind::List || a[0]->kind == Kind::Tuple))
      s->items = a[0]->items;
    else if (!a.empty())
      bad("set expects one list");
    return s;
  }
  if (f == "_codecs.encode") {
    if (a.empty() || a[0]->kind != Kind::Str) bad("_codecs.encode expects a string");
    Value* b = make(Kind::Bytes);
    if (!utf8_to_latin1(a[0]->s, b->s)) b->s = a[0]->s;
    return b;
  }
  fail(source_, "pickle calls '" + f + "', which cnnscope does not call",
       "only tensor, OrderedDict and container rebuilds are allowed");
}

const Value* dict_get(const Value& dict, const std::string& key) {
  if (dict.kind != Kind::Dict) return nullptr;
  for (const auto& [k, v] : dict.entries)
    if (k->kind == Kind::Str && k->s == key) return v;
  return nullptr;
}

bool as_int_list(const Value& v, std::vector<int64_t>& out) {
  out.clear();
  if (v.kind != Kind::Tuple && v.kind != Kind::List) return false;
  for (const Value* item : v.items) {
    if (item->kind != Kind::Int) return false;
    out.push_back(item->i);
  }
  return true;
}

}  // namespace cnnscope::pickle
