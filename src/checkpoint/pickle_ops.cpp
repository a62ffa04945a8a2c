// The restricted unpickler's opcodes (pickle.h): a table from each opcode byte to one short
// function that reads its argument and moves values between the stack, the marks and the memo,
// and load(), which runs them until STOP. What a call or a global may do is pickle.cpp's
// (Unpickler::global, reduce, instantiate, build). Leaves out: EXT1/2/4, PERSID (text),
// NEXT_BUFFER/READONLY_BUFFER (refused). Spec: CPython's Lib/pickletools.py.
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/pickle.h"

namespace cnnscope::pickle {
namespace {

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

}  // namespace

// One short function per opcode. Each reads its argument, pops and pushes as pickletools.py
// describes the opcode; everything it refuses goes through Unpickler::bad.
struct Unpickler::Ops {
  using Handler = void (*)(Unpickler& u, uint8_t op);

  static void push(Unpickler& u, Value* v) { u.stack_.push_back(v); }

  // INT and LONG's decimal text: an int, or a BigInt (its length) past int64.
  static void push_decimal(Unpickler& u, const std::string& text, const char* opcode) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') u.bad(std::string(opcode) + " argument is not a number");
    if (errno == ERANGE) {
      Value* big = u.make(Kind::BigInt);
      big->i = static_cast<int64_t>(text.size());
      push(u, big);
    } else {
      push(u, u.make_int(v));
    }
  }

  // PUT and GET's decimal memo index.
  static uint64_t decimal_index(Unpickler& u, const char* opcode) {
    const std::string text(u.line());
    char* end = nullptr;
    const unsigned long long idx = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') u.bad(std::string(opcode) + " argument is not a number");
    return idx;
  }

  static void proto(Unpickler& u, uint8_t) {
    const uint8_t version = u.byte();
    if (version > 5) u.bad("unsupported pickle protocol " + std::to_string(version));
  }
  static void frame(Unpickler& u, uint8_t) {
    const uint64_t n = u.read_le(8);
    if (n > u.data_.size() - u.pos_) u.bad("FRAME longer than the data");
  }
  static void mark(Unpickler& u, uint8_t) { u.marks_.push_back(u.stack_.size()); }
  static void pop(Unpickler& u, uint8_t) {
    if (!u.marks_.empty() && u.stack_.size() == u.marks_.back())
      u.pop_mark();  // CPython: POP on an empty frame discards the mark
    else
      u.pop();
  }
  static void pop_mark(Unpickler& u, uint8_t) { u.pop_mark(); }
  static void dup(Unpickler& u, uint8_t) { push(u, u.top()); }
  static void none(Unpickler& u, uint8_t) { push(u, u.make(Kind::None)); }
  static void boolean(Unpickler& u, uint8_t op) {
    Value* v = u.make(Kind::Bool);
    v->i = op == NEWTRUE;
    push(u, v);
  }
  static void int_text(Unpickler& u, uint8_t) {
    const std::string text(u.line());
    if (text == "01" || text == "00") {  // protocol 0's True and False
      Value* v = u.make(Kind::Bool);
      v->i = text == "01";
      push(u, v);
      return;
    }
    push_decimal(u, text, "INT");
  }
  static void long_text(Unpickler& u, uint8_t) {
    std::string text(u.line());
    if (!text.empty() && text.back() == 'L') text.pop_back();
    push_decimal(u, text, "LONG");
  }
  static void binint(Unpickler& u, uint8_t) {
    push(u, u.make_int(static_cast<int32_t>(u.read_le(4))));
  }
  static void binint1(Unpickler& u, uint8_t) { push(u, u.make_int(u.byte())); }
  static void binint2(Unpickler& u, uint8_t) {
    push(u, u.make_int(static_cast<int64_t>(u.read_le(2))));
  }
  static void long1(Unpickler& u, uint8_t) {
    const uint8_t n = u.byte();
    push(u, u.make_long(u.take(n)));
  }
  static void long4(Unpickler& u, uint8_t) {
    const auto n = static_cast<int32_t>(u.read_le(4));
    if (n < 0) u.bad("LONG4 with a negative length");
    push(u, u.make_long(u.take(static_cast<uint64_t>(n))));
  }
  static void float_text(Unpickler& u, uint8_t) {
    const std::string text(u.line());
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') u.bad("FLOAT argument is not a number");
    Value* v = u.make(Kind::Float);
    v->f = d;
    push(u, v);
  }
  static void binfloat(Unpickler& u, uint8_t) {
    uint64_t bits = 0;
    for (char c : u.take(8)) bits = (bits << 8) | static_cast<uint8_t>(c);  // big-endian
    Value* v = u.make(Kind::Float);
    std::memcpy(&v->f, &bits, sizeof(double));
    push(u, v);
  }
  static void string_text(Unpickler& u, uint8_t) {
    const std::string_view text = u.line();
    if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') ||
        text.back() != text.front())
      u.bad("STRING argument is not quoted");
    Value* v = u.make(Kind::Str);
    v->s = std::string(text.substr(1, text.size() - 2));
    push(u, v);
  }
  static void unicode_text(Unpickler& u, uint8_t) {
    Value* v = u.make(Kind::Str);
    v->s = std::string(u.line());
    push(u, v);
  }
  // The counted strings and bytes: a 1-, 4- or 8-byte length (BINSTRING's signed), then the data.
  static void counted(Unpickler& u, uint8_t op) {
    uint64_t n = 0;
    if (op == SHORT_BINSTRING || op == SHORT_BINUNICODE || op == SHORT_BINBYTES)
      n = u.byte();
    else if (op == BINUNICODE8 || op == BINBYTES8 || op == BYTEARRAY8)
      n = u.read_le(8);
    else if (op == BINSTRING)
      n = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(u.read_le(4))));
    else
      n = u.read_le(4);
    const bool text = op == BINSTRING || op == BINUNICODE || op == SHORT_BINSTRING ||
                      op == SHORT_BINUNICODE || op == BINUNICODE8;
    Value* v = u.make(text ? Kind::Str : Kind::Bytes);
    v->s = std::string(u.take(n));
    push(u, v);
  }
  static void empty_tuple(Unpickler& u, uint8_t) { push(u, u.make(Kind::Tuple)); }
  static void small_tuple(Unpickler& u, uint8_t op) {
    const size_t n = op - TUPLE1 + 1;
    Value* v = u.make(Kind::Tuple);
    v->items.resize(n);
    for (size_t k = n; k-- > 0;) v->items[k] = u.pop();
    push(u, v);
  }
  static void marked_sequence(Unpickler& u, uint8_t op) {  // TUPLE, LIST, FROZENSET
    Value* v = u.make(op == TUPLE ? Kind::Tuple : op == LIST ? Kind::List : Kind::Set);
    v->items = u.pop_mark();
    push(u, v);
  }
  static void empty_list(Unpickler& u, uint8_t) { push(u, u.make(Kind::List)); }
  static void empty_dict(Unpickler& u, uint8_t) { push(u, u.make(Kind::Dict)); }
  static void empty_set(Unpickler& u, uint8_t) { push(u, u.make(Kind::Set)); }
  static void dict(Unpickler& u, uint8_t) {
    const std::vector<Value*> kv = u.pop_mark();
    Value* d = u.make(Kind::Dict);
    u.set_items(d, kv);
    push(u, d);
  }
  static void append(Unpickler& u, uint8_t) {
    Value* v = u.pop();
    Value* list = u.top();
    if (list->kind != Kind::List) u.bad("APPEND on a value that is not a list");
    list->items.push_back(v);
  }
  static void appends(Unpickler& u, uint8_t) {
    const std::vector<Value*> items = u.pop_mark();
    Value* list = u.top();
    if (list->kind != Kind::List) u.bad("APPENDS on a value that is not a list");
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  static void additems(Unpickler& u, uint8_t) {
    const std::vector<Value*> items = u.pop_mark();
    Value* set = u.top();
    if (set->kind != Kind::Set) u.bad("ADDITEMS on a value that is not a set");
    set->items.insert(set->items.end(), items.begin(), items.end());
  }
  static void setitem(Unpickler& u, uint8_t) {
    Value* v = u.pop();
    Value* k = u.pop();
    u.set_items(u.top(), {k, v});
  }
  static void setitems(Unpickler& u, uint8_t) {
    const std::vector<Value*> kv = u.pop_mark();
    u.set_items(u.top(), kv);
  }
  static void global_text(Unpickler& u, uint8_t) {
    const std::string module(u.line());
    const std::string name(u.line());
    push(u, u.global(module, name));
  }
  static void stack_global(Unpickler& u, uint8_t) {
    Value* name = u.pop();
    Value* module = u.pop();
    if (module->kind != Kind::Str || name->kind != Kind::Str)
      u.bad("STACK_GLOBAL expects two strings");
    push(u, u.global(module->s, name->s));
  }
  static void reduce(Unpickler& u, uint8_t) {
    Value* args = u.pop();
    Value* callable = u.pop();
    push(u, u.reduce(callable, args));
  }
  static void build(Unpickler& u, uint8_t) {
    Value* state = u.pop();
    u.build(u.top(), state);
  }
  static void binpersid(Unpickler& u, uint8_t) {
    Value* pid = u.pop();
    push(u, u.persistent_load_(*pid));
  }
  static void put(Unpickler& u, uint8_t) {
    const uint64_t idx = decimal_index(u, "PUT");
    u.memo_put(idx, u.top());
  }
  static void binput(Unpickler& u, uint8_t) { u.memo_put(u.byte(), u.top()); }
  static void long_binput(Unpickler& u, uint8_t) { u.memo_put(u.read_le(4), u.top()); }
  static void memoize(Unpickler& u, uint8_t) { u.memo_put(u.memo_.size(), u.top()); }
  static void get(Unpickler& u, uint8_t) { push(u, u.memo_get(decimal_index(u, "GET"))); }
  static void binget(Unpickler& u, uint8_t) { push(u, u.memo_get(u.byte())); }
  static void long_binget(Unpickler& u, uint8_t) { push(u, u.memo_get(u.read_le(4))); }
  static void newobj(Unpickler& u, uint8_t) {
    Value* args = u.pop();
    Value* cls = u.pop();
    push(u, u.instantiate(cls, args));
  }
  static void newobj_ex(Unpickler& u, uint8_t) {
    u.pop();  // keyword arguments: an opaque object keeps none
    newobj(u, NEWOBJ);
  }
  static void obj(Unpickler& u, uint8_t) {
    const std::vector<Value*> items = u.pop_mark();
    if (items.empty()) u.bad("OBJ without a class");
    Value* args = u.make(Kind::Tuple);
    args->items.assign(items.begin() + 1, items.end());
    push(u, u.instantiate(items[0], args));
  }
  static void inst(Unpickler& u, uint8_t) {
    const std::string module(u.line());
    const std::string name(u.line());
    Value* cls = u.global(module, name);
    Value* args = u.make(Kind::Tuple);
    args->items = u.pop_mark();
    push(u, u.instantiate(cls, args));
  }
  static void ext(Unpickler& u, uint8_t) {
    u.bad("extension registry opcodes (EXT1/2/4) are not allowed");
  }
  static void persid(Unpickler& u, uint8_t) {
    u.bad("text persistent ids (PERSID) are not used by torch.save");
  }
  static void buffer(Unpickler& u, uint8_t) { u.bad("out-of-band buffers are not allowed"); }
  static void unknown(Unpickler& u, uint8_t op) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    u.bad(std::string("unknown opcode ") + hex);
  }

  // The handler of each opcode byte (STOP is load()'s own); unknown for the rest.
  static const std::array<Handler, 256>& table() {
    static const std::array<Handler, 256> handlers = [] {
      std::array<Handler, 256> t{};
      t.fill(&unknown);
      const std::pair<Op, Handler> known[] = {
          {PROTO, proto},
          {FRAME, frame},
          {MARK, mark},
          {POP, pop},
          {POP_MARK, pop_mark},
          {DUP, dup},
          {NONE, none},
          {NEWTRUE, boolean},
          {NEWFALSE, boolean},
          {INT, int_text},
          {LONG, long_text},
          {BININT, binint},
          {BININT1, binint1},
          {BININT2, binint2},
          {LONG1, long1},
          {LONG4, long4},
          {FLOAT, float_text},
          {BINFLOAT, binfloat},
          {STRING, string_text},
          {UNICODE, unicode_text},
          {BINSTRING, counted},
          {BINUNICODE, counted},
          {SHORT_BINSTRING, counted},
          {SHORT_BINUNICODE, counted},
          {BINUNICODE8, counted},
          {BINBYTES, counted},
          {SHORT_BINBYTES, counted},
          {BINBYTES8, counted},
          {BYTEARRAY8, counted},
          {EMPTY_TUPLE, empty_tuple},
          {TUPLE1, small_tuple},
          {TUPLE2, small_tuple},
          {TUPLE3, small_tuple},
          {TUPLE, marked_sequence},
          {LIST, marked_sequence},
          {FROZENSET, marked_sequence},
          {EMPTY_LIST, empty_list},
          {EMPTY_DICT, empty_dict},
          {EMPTY_SET, empty_set},
          {DICT, dict},
          {APPEND, append},
          {APPENDS, appends},
          {ADDITEMS, additems},
          {SETITEM, setitem},
          {SETITEMS, setitems},
          {GLOBAL, global_text},
          {STACK_GLOBAL, stack_global},
          {REDUCE, reduce},
          {BUILD, build},
          {BINPERSID, binpersid},
          {PUT, put},
          {BINPUT, binput},
          {LONG_BINPUT, long_binput},
          {MEMOIZE, memoize},
          {GET, get},
          {BINGET, binget},
          {LONG_BINGET, long_binget},
          {NEWOBJ, newobj},
          {NEWOBJ_EX, newobj_ex},
          {OBJ, obj},
          {INST, inst},
          {EXT1, ext},
          {EXT2, ext},
          {EXT4, ext},
          {PERSID, persid},
          {NEXT_BUFFER, buffer},
          {READONLY_BUFFER, buffer},
      };
      for (const auto& [op, handler] : known) t[op] = handler;
      return t;
    }();
    return handlers;
  }
};

Value* Unpickler::load() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = byte();
    if (op == STOP) return pop();
    Ops::table()[op](*this, op);
  }
}

}  // namespace cnnscope::pickle
