// The restricted unpickler: every opcode of CPython's Lib/pickletools.py that plain data needs,
// an allowlist of globals that cnnscope's own code stands in for (tensor, quantized tensor,
// OrderedDict, numpy scalar/dtype/array rebuilds), other classes kept by name and instantiated
// only as opaque Objects (INST/OBJ/NEWOBJ/NEWOBJ_EX, copyreg._reconstructor) with their BUILD
// state, gadget modules refused by name, bounds-checked memo, stack and lengths. Leaves out:
// EXT1/2/4, PERSID (text), NEXT_BUFFER/READONLY_BUFFER. Spec: pickletools.py; numpy's
// multiarray.scalar/_reconstruct and ndarray.__setstate__; torch/_utils.py (_rebuild_qtensor);
// torch/jit/_pickle.py.
#include "checkpoint/pickle.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>

#include <c10/util/Half.h>

#include "checkpoint/dtype.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope::pickle {
namespace {

constexpr size_t kMaxValues = size_t{1} << 24;  // far above any real checkpoint's pickle
constexpr size_t kMaxDims = 64;
constexpr int kReprDepth = 3;
constexpr size_t kReprItems = 8;
constexpr size_t kReprChars = 256;  // a longer string shows its start and its length

// Opcodes, named as in pickletools.py.
enum Op : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

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
    if ((module + ".").rfind(allowed, 0) == 0) return false;
  for (size_t start = 0;;) {  // "a", "a.b", "a.b.c"
    const size_t dot = module.find('.', start);
    if (roots.count(module.substr(0, dot))) return true;
    if (dot == std::string::npos) return false;
    start = dot + 1;
  }
}

// numpy's type name of a dtype code ("f8" -> "float64"), or "" for codes read here as no number.
std::string numpy_type(char kind, size_t size) {
  switch (kind) {
    case 'f':
      return size == 2 || size == 4 || size == 8 ? "float" + std::to_string(size * 8) : "";
    case 'i':
    case 'u':
      return size == 1 || size == 2 || size == 4 || size == 8
                 ? std::string(kind == 'u' ? "uint" : "int") + std::to_string(size * 8)
                 : "";
    case 'b':
      return size == 1 ? "bool" : "";
    default:
      return "";
  }
}

// A numpy dtype Object (numpy.dtype(code, align, copy), BUILD (version, byte order, ...)): its
// kind letter, item size and whether its bytes are big-endian; false when not a plain number.
bool numpy_dtype(const Value& dtype, char& kind, size_t& size, bool& big_endian) {
  if (dtype.kind != Kind::Object || dtype.s != "numpy.dtype" || dtype.items.empty() ||
      dtype.items[0]->kind != Kind::Str)
    return false;
  const std::string& code = dtype.items[0]->s;
  if (code.size() < 2 || code.size() > 3) return false;
  kind = code[0];
  size = static_cast<size_t>(std::atoi(code.c_str() + 1));
  big_endian = false;
  if (dtype.state && dtype.state->kind == Kind::Tuple && dtype.state->items.size() > 1 &&
      dtype.state->items[1]->kind == Kind::Str)
    big_endian = dtype.state->items[1]->s == ">";
  return !numpy_type(kind, size).empty();
}

// One number of numpy `kind`/`size` at `p` as a Bool/Int/Float value's fields.
void numpy_number(char kind, size_t size, bool big_endian, const char* p, Value& out) {
  uint64_t bits = 0;
  for (size_t k = 0; k < size; ++k) {
    const size_t at = big_endian ? k : size - 1 - k;
    bits = (bits << 8) | static_cast<uint8_t>(p[at]);
  }
  out.numpy = numpy_type(kind, size);
  if (kind == 'b') {
    out.kind = Kind::Bool;
    out.i = bits != 0;
  } else if (kind == 'f') {
    out.kind = Kind::Float;
    if (size == 8) {
      std::memcpy(&out.f, &bits, 8);
    } else if (size == 4) {
      const auto b32 = static_cast<uint32_t>(bits);
      float f = 0;
      std::memcpy(&f, &b32, 4);
      out.f = f;
    } else {
      out.f = static_cast<float>(c10::Half(static_cast<uint16_t>(bits), c10::Half::from_bits()));
    }
  } else {
    out.kind = Kind::Int;
    if (kind == 'i' && size < 8 && (bits >> (size * 8 - 1)) & 1)
      bits |= ~uint64_t{0} << (size * 8);  // sign-extend
    out.i = static_cast<int64_t>(bits);
    if (kind == 'u' && size == 8 && static_cast<int64_t>(bits) < 0) {
      out.kind = Kind::Float;  // above int64: kept as its nearest double
      out.f = static_cast<double>(bits);
    }
  }
}

// Text of a numeric value: Python's repr, float32 at float32's shortest digits.
std::string number_text(const Value& v) {
  if (v.kind == Kind::Bool) return v.i ? "True" : "False";
  if (v.kind == Kind::Int) return std::to_string(v.i);
  if (v.numpy == "float32") return py_float32(static_cast<float>(v.f));
  if (v.numpy == "float16" && std::isfinite(v.f)) {
    // The fewest digits that read back as the same float16, then Python's notation for them.
    const c10::Half h(static_cast<float>(v.f));
    for (int digits = 1; digits <= 5; ++digits) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v.f);
      const double back = std::strtod(buf, nullptr);
      if (c10::Half(static_cast<float>(back)).x == h.x) return py_float(back);
    }
  }
  return py_float(v.f);
}

// numpy's ndarray.__setstate__ state (version, shape, dtype, is_fortran, raw bytes) as
// "array([0.0, 1.0], dtype=float64)": values as ndarray.tolist() prints them, at most
// kReprItems per dimension; "" when the state is not a plain numeric array.
std::string numpy_array_text(const Value& array, size_t max_items) {
  const Value* st = array.state;
  if (!st || st->kind != Kind::Tuple || st->items.size() != 5) return "";
  std::vector<int64_t> shape;
  char kind = 0;
  size_t size = 0;
  bool big = false;
  if (!as_int_list(*st->items[1], shape) || !numpy_dtype(*st->items[2], kind, size, big) ||
      st->items[4]->kind != Kind::Bytes || shape.size() > kMaxDims)
    return "";
  uint64_t total = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total)) return "";
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(total, size, &nbytes) || nbytes != st->items[4]->s.size()) return "";
  // Deeper arrays by shape only: kReprItems per dimension would print kReprItems^ndim numbers.
  if (shape.size() > static_cast<size_t>(kReprDepth))
    return "array(shape=" + shape_text(shape) + ", dtype=" + numpy_type(kind, size) + ")";
  const bool fortran = st->items[3]->kind == Kind::Bool && st->items[3]->i;
  std::vector<uint64_t> strides(shape.size(), 1);  // elements
  for (size_t d = 0; d < shape.size(); ++d)
    for (size_t e = 0; e < shape.size(); ++e)
      if (fortran ? e < d : e > d) strides[d] *= static_cast<uint64_t>(shape[e]);
  const char* raw = st->items[4]->s.data();
  std::function<std::string(size_t, uint64_t)> dim = [&](size_t d, uint64_t at) {
    if (d == shape.size()) {
      Value v;
      numpy_number(kind, size, big, raw + at * size, v);
      return number_text(v);
    }
    std::string out = "[";
    const auto n = static_cast<uint64_t>(shape[d]);
    for (uint64_t k = 0; k < n && k < max_items; ++k)
      out += (k ? ", " : "") + dim(d + 1, at + k * strides[d]);
    if (n > max_items) out += ", ... (" + std::to_string(n) + " items)";
    return out + "]";
  };
  return "array(" + dim(0, 0) + ", dtype=" + numpy_type(kind, size) + ")";
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

Value* Unpickler::numpy_scalar(const std::vector<Value*>& a) {
  // scalar(dtype, bytes): the bytes of one value of that dtype.
  char kind = 0;
  size_t size = 0;
  bool big = false;
  if (a.size() != 2 || (a[1]->kind != Kind::Bytes && a[1]->kind != Kind::Str))
    bad("numpy scalar expects (dtype, bytes)");
  if (!numpy_dtype(*a[0], kind, size, big)) {
    Value* other = make(Kind::Object);  // complex, datetime, strings: shown by type only
    other->s = "numpy scalar";
    return other;
  }
  if (a[1]->s.size() != size)
    bad("numpy scalar of " + std::to_string(size) + " bytes holds " +
        std::to_string(a[1]->s.size()));
  Value* v = make(Kind::Int);
  numpy_number(kind, size, big, a[1]->s.data(), *v);
  return v;
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
  if (f.rfind("torch.jit._pickle.build_", 0) == 0 || f == "torch.jit._pickle.restore_type_tag") {
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

Value* Unpickler::load() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  // INT and LONG's decimal text: an int, or a BigInt (its length) past int64.
  const auto push_decimal = [this](const std::string& text, const char* opcode) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') bad(std::string(opcode) + " argument is not a number");
    if (errno == ERANGE) {
      Value* big = make(Kind::BigInt);
      big->i = static_cast<int64_t>(text.size());
      stack_.push_back(big);
    } else {
      stack_.push_back(make_int(v));
    }
  };
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = byte();
    switch (op) {
      case PROTO: {
        uint8_t proto = byte();
        if (proto > 5) bad("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case FRAME: {
        uint64_t n = read_le(8);
        if (n > data_.size() - pos_) bad("FRAME longer than the data");
        break;
      }
      case STOP: {
        Value* v = pop();
        return v;
      }
      case MARK:
        marks_.push_back(stack_.size());
        break;
      case POP:
        if (!marks_.empty() && stack_.size() == marks_.back())
          pop_mark();  // CPython: POP on an empty frame discards the mark
        else
          pop();
        break;
      case POP_MARK:
        pop_mark();
        break;
      case DUP:
        stack_.push_back(top());
        break;
      case NONE:
        stack_.push_back(make(Kind::None));
        break;
      case NEWTRUE:
      case NEWFALSE: {
        Value* v = make(Kind::Bool);
        v->i = op == NEWTRUE;
        stack_.push_back(v);
        break;
      }
      case INT: {
        std::string text(line());
        if (text == "01" || text == "00") {
          Value* v = make(Kind::Bool);
          v->i = text == "01";
          stack_.push_back(v);
          break;
        }
        push_decimal(text, "INT");
        break;
      }
      case LONG: {
        std::string text(line());
        if (!text.empty() && text.back() == 'L') text.pop_back();
        push_decimal(text, "LONG");
        break;
      }
      case BININT:
        stack_.push_back(make_int(static_cast<int32_t>(read_le(4))));
        break;
      case BININT1:
        stack_.push_back(make_int(byte()));
        break;
      case BININT2:
        stack_.push_back(make_int(static_cast<int64_t>(read_le(2))));
        break;
      case LONG1: {
        uint8_t n = byte();
        stack_.push_back(make_long(take(n)));
        break;
      }
      case LONG4: {
        int32_t n = static_cast<int32_t>(read_le(4));
        if (n < 0) bad("LONG4 with a negative length");
        stack_.push_back(make_long(take(static_cast<uint64_t>(n))));
        break;
      }
      case FLOAT: {
        std::string text(line());
        char* end = nullptr;
        double d = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0') bad("FLOAT argument is not a number");
        Value* v = make(Kind::Float);
        v->f = d;
        stack_.push_back(v);
        break;
      }
      case BINFLOAT: {
        uint64_t bits = 0;
        std::string_view b = take(8);
        for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);  // big-endian
        Value* v = make(Kind::Float);
        std::memcpy(&v->f, &bits, sizeof(double));
        stack_.push_back(v);
        break;
      }
      case STRING: {
        std::string_view text = line();
        if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') ||
            text.back() != text.front())
          bad("STRING argument is not quoted");
        Value* v = make(Kind::Str);
        v->s = std::string(text.substr(1, text.size() - 2));
        stack_.push_back(v);
        break;
      }
      case UNICODE: {
        Value* v = make(Kind::Str);
        v->s = std::string(line());
        stack_.push_back(v);
        break;
      }
      case BINSTRING:
      case BINUNICODE:
      case SHORT_BINSTRING:
      case SHORT_BINUNICODE:
      case BINUNICODE8:
      case BINBYTES:
      case SHORT_BINBYTES:
      case BINBYTES8:
      case BYTEARRAY8: {
        uint64_t n = 0;
        if (op == SHORT_BINSTRING || op == SHORT_BINUNICODE || op == SHORT_BINBYTES)
          n = byte();
        else if (op == BINUNICODE8 || op == BINBYTES8 || op == BYTEARRAY8)
          n = read_le(8);
        else if (op == BINSTRING)
          n = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(read_le(4))));
        else
          n = read_le(4);
        const bool text = op == BINSTRING || op == BINUNICODE || op == SHORT_BINSTRING ||
                          op == SHORT_BINUNICODE || op == BINUNICODE8;
        Value* v = make(text ? Kind::Str : Kind::Bytes);
        v->s = std::string(take(n));
        stack_.push_back(v);
        break;
      }
      case EMPTY_TUPLE:
        stack_.push_back(make(Kind::Tuple));
        break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const size_t n = op - TUPLE1 + 1;
        Value* v = make(Kind::Tuple);
        v->items.resize(n);
        for (size_t k = n; k-- > 0;) v->items[k] = pop();
        stack_.push_back(v);
        break;
      }
      case TUPLE:
      case LIST:
      case FROZENSET: {
        Value* v = make(op == TUPLE ? Kind::Tuple : op == LIST ? Kind::List : Kind::Set);
        v->items = pop_mark();
        stack_.push_back(v);
        break;
      }
      case EMPTY_LIST:
        stack_.push_back(make(Kind::List));
        break;
      case EMPTY_DICT:
        stack_.push_back(make(Kind::Dict));
        break;
      case EMPTY_SET:
        stack_.push_back(make(Kind::Set));
        break;
      case DICT: {
        std::vector<Value*> kv = pop_mark();
        Value* d = make(Kind::Dict);
        set_items(d, kv);
        stack_.push_back(d);
        break;
      }
      case APPEND: {
        Value* v = pop();
        Value* list = top();
        if (list->kind != Kind::List) bad("APPEND on a value that is not a list");
        list->items.push_back(v);
        break;
      }
      case APPENDS: {
        std::vector<Value*> items = pop_mark();
        Value* list = top();
        if (list->kind != Kind::List) bad("APPENDS on a value that is not a list");
        list->items.insert(list->items.end(), items.begin(), items.end());
        break;
      }
      case ADDITEMS: {
        std::vector<Value*> items = pop_mark();
        Value* set = top();
        if (set->kind != Kind::Set) bad("ADDITEMS on a value that is not a set");
        set->items.insert(set->items.end(), items.begin(), items.end());
        break;
      }
      case SETITEM: {
        Value* v = pop();
        Value* k = pop();
        set_items(top(), {k, v});
        break;
      }
      case SETITEMS: {
        std::vector<Value*> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case GLOBAL: {
        std::string module(line());
        std::string name(line());
        stack_.push_back(global(module, name));
        break;
      }
      case STACK_GLOBAL: {
        Value* name = pop();
        Value* module = pop();
        if (module->kind != Kind::Str || name->kind != Kind::Str)
          bad("STACK_GLOBAL expects two strings");
        stack_.push_back(global(module->s, name->s));
        break;
      }
      case REDUCE: {
        Value* args = pop();
        Value* callable = pop();
        stack_.push_back(reduce(callable, args));
        break;
      }
      case BUILD: {
        Value* state = pop();
        build(top(), state);
        break;
      }
      case BINPERSID: {
        Value* pid = pop();
        stack_.push_back(persistent_load_(*pid));
        break;
      }
      case PUT: {
        std::string text(line());
        char* end = nullptr;
        unsigned long long idx = std::strtoull(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0') bad("PUT argument is not a number");
        memo_put(idx, top());
        break;
      }
      case BINPUT:
        memo_put(byte(), top());
        break;
      case LONG_BINPUT:
        memo_put(read_le(4), top());
        break;
      case MEMOIZE:
        memo_put(memo_.size(), top());
        break;
      case GET: {
        std::string text(line());
        char* end = nullptr;
        unsigned long long idx = std::strtoull(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0') bad("GET argument is not a number");
        stack_.push_back(memo_get(idx));
        break;
      }
      case BINGET:
        stack_.push_back(memo_get(byte()));
        break;
      case LONG_BINGET:
        stack_.push_back(memo_get(read_le(4)));
        break;
      case NEWOBJ: {
        Value* args = pop();
        Value* cls = pop();
        stack_.push_back(instantiate(cls, args));
        break;
      }
      case NEWOBJ_EX: {
        pop();  // keyword arguments: an opaque object keeps none
        Value* args = pop();
        Value* cls = pop();
        stack_.push_back(instantiate(cls, args));
        break;
      }
      case OBJ: {
        std::vector<Value*> items = pop_mark();
        if (items.empty()) bad("OBJ without a class");
        Value* args = make(Kind::Tuple);
        args->items.assign(items.begin() + 1, items.end());
        stack_.push_back(instantiate(items[0], args));
        break;
      }
      case INST: {
        std::string module(line());
        std::string name(line());
        Value* cls = global(module, name);
        Value* args = make(Kind::Tuple);
        args->items = pop_mark();
        stack_.push_back(instantiate(cls, args));
        break;
      }
      case EXT1:
      case EXT2:
      case EXT4:
        bad("extension registry opcodes (EXT1/2/4) are not allowed");
      case PERSID:
        bad("text persistent ids (PERSID) are not used by torch.save");
      case NEXT_BUFFER:
      case READONLY_BUFFER:
        bad("out-of-band buffers are not allowed");
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        bad(std::string("unknown opcode ") + hex);
      }
    }
  }
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

std::string repr(const Value& v, int depth) {
  auto seq = [&](const std::vector<Value*>& items, const char* open, const char* close) {
    std::string out = open;
    if (depth >= kReprDepth) return out + "..." + close;
    for (size_t k = 0; k < items.size() && k < kReprItems; ++k)
      out += (k ? ", " : "") + repr(*items[k], depth + 1);
    if (items.size() > kReprItems) out += ", ... (" + std::to_string(items.size()) + " items)";
    if (v.kind == Kind::Tuple && items.size() == 1) out += ",";
    return out + close;
  };
  switch (v.kind) {
    case Kind::None:
      return "None";
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
      if (v.numpy.empty()) return number_text(v);
      if (v.kind == Kind::Bool) return v.i ? "np.True_" : "np.False_";
      return "np." + v.numpy + "(" + number_text(v) + ")";
    case Kind::BigInt:
      return "<" + std::to_string(v.i) + "-byte int>";
    case Kind::Str:
      if (v.s.size() > kReprChars) {
        size_t cut = kReprChars;  // not inside a UTF-8 sequence
        while (cut > 0 && (static_cast<unsigned char>(v.s[cut]) & 0xc0) == 0x80) --cut;
        return "'" + v.s.substr(0, cut) + "...' (" + std::to_string(v.s.size()) + " bytes)";
      }
      return "'" + v.s + "'";
    case Kind::Bytes:
      return "<" + std::to_string(v.s.size()) + " bytes>";
    case Kind::Tuple:
      return seq(v.items, "(", ")");
    case Kind::List:
      return seq(v.items, "[", "]");
    case Kind::Set:
      return seq(v.items, "{", "}");
    case Kind::Dict:
      return "{" + std::string(v.entries.empty() ? "" : "...") + "}";
    case Kind::Global:
      return v.s;
    case Kind::Storage:
      return "<storage " + v.storage->key + ">";
    case Kind::Tensor:
      return "<tensor>";
    case Kind::Class:
      return "<class '" + v.s + "'>";
    case Kind::Object: {
      char kind = 0;
      size_t size = 0;
      bool big = false;
      if (v.s == "numpy.dtype" && numpy_dtype(v, kind, size, big))
        return "dtype('" + numpy_type(kind, size) + "')";
      if (v.s == "numpy.ndarray") {
        const std::string text = numpy_array_text(v, kReprItems);
        if (!text.empty()) return text;
      }
      return "<" + v.s + " object>";
    }
  }
  return "?";
}

}  // namespace cnnscope::pickle
