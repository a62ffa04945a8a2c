// The restricted unpickler: every opcode of CPython's Lib/pickletools.py that plain data needs,
// an allowlist of globals (refused by name otherwise), bounds-checked memo, stack and lengths.
// Leaves out: EXT1/2/4, INST/OBJ/NEWOBJ/NEWOBJ_EX, PERSID (text), NEXT_BUFFER/READONLY_BUFFER.
#include "checkpoint/pickle.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "checkpoint/dtype.h"
#include "common/error.h"

namespace cnnscope::pickle {
namespace {

constexpr size_t kMaxValues = size_t{1} << 24;  // far above any real checkpoint's pickle
constexpr size_t kMaxDims = 64;
constexpr int kReprDepth = 3;
constexpr size_t kReprItems = 8;

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
        "_codecs.encode",
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
  std::string mod = module == "__builtin__" ? "builtins" : module;
  std::string full = mod + "." + name;
  if (!allowed_globals().count(full)) {
    std::string hint =
        "cnnscope executes nothing from a checkpoint and reads only tensors, "
        "containers and plain values";
    if (mod.rfind("torch", 0) != 0 && mod != "collections" && mod != "builtins")
      hint +=
          "; if this file pickles a whole model (torch.save(model)), save "
          "model.state_dict() instead";
    fail(source_, "pickle refers to global '" + full + "', which is not allowed", hint);
  }
  Value* v = make(Kind::Global);
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

Value* Unpickler::reduce(Value* callable, Value* args) {
  if (callable->kind != Kind::Global) bad("REDUCE on a value that is not a callable");
  if (args->kind != Kind::Tuple) bad("REDUCE arguments are not a tuple");
  const std::string& f = callable->s;
  const std::vector<Value*>& a = args->items;
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
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0') bad("INT argument is not a number");
        if (errno == ERANGE) {
          Value* big = make(Kind::BigInt);
          big->i = static_cast<int64_t>(text.size());
          stack_.push_back(big);
        } else {
          stack_.push_back(make_int(v));
        }
        break;
      }
      case LONG: {
        std::string text(line());
        if (!text.empty() && text.back() == 'L') text.pop_back();
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0') bad("LONG argument is not a number");
        if (errno == ERANGE) {
          Value* big = make(Kind::BigInt);
          big->i = static_cast<int64_t>(text.size());
          stack_.push_back(big);
        } else {
          stack_.push_back(make_int(v));
        }
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
        pop();  // the state: OrderedDict's `_metadata`, a tensor's empty dict
        Value* obj = top();
        if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor && obj->kind != Kind::Set)
          bad("BUILD on a value that takes no state");
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
      case INST:
      case OBJ:
      case NEWOBJ:
      case NEWOBJ_EX:
        bad("object construction (INST/OBJ/NEWOBJ) is not allowed");
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
      return v.i ? "True" : "False";
    case Kind::Int:
      return std::to_string(v.i);
    case Kind::BigInt:
      return "<" + std::to_string(v.i) + "-byte int>";
    case Kind::Float: {
      char buf[32];
      // Shortest text that reads back the same, as Python's repr does.
      for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v.f);
        if (std::strtod(buf, nullptr) == v.f || std::isnan(v.f)) break;
      }
      std::string s = buf;
      if (std::isfinite(v.f) && s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
    case Kind::Str:
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
  }
  return "?";
}

}  // namespace cnnscope::pickle
