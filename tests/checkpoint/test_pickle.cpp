// The restricted unpickler on hand-made pickles: protocol 4/5 opcodes, integers and floats as
// CPython encodes them, cycles through the memo, and every refusal (globals, memo, stack, opcodes).
#include <gtest/gtest.h>

#include "checkpoint/pickle.h"
#include "common/error.h"

namespace cnnscope::pickle {
namespace {

// Every byte of a literal, NULs included.
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

Value* no_storage(const Value&) {
  throw Error("unexpected persistent id");
}

struct Loaded {
  std::unique_ptr<Unpickler> u;
  Value* root;
};

Loaded load(const std::string& bytes) {
  static std::vector<std::string> keep;  // the unpickler views the bytes
  keep.push_back(bytes);
  auto u = std::make_unique<Unpickler>("t.pkl", keep.back(), no_storage);
  Value* root = u->load();
  return {std::move(u), root};
}

std::string error_of(const std::string& bytes) {
  try {
    load(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Pickle, Protocol5FrameMemoizeStackGlobalAndSets) {
  // pickle.dumps({'a': [1, -2, 2**40], 'b': {3}, 'c': 0.5, 'd': b'xy'}, protocol=5)
  const std::string p5 = bytes(
      "\x80\x05\x95\x3c\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x61\x94\x5d\x94\x28\x4b"
      "\x01\x4a\xfe\xff\xff\xff\x8a\x06\x00\x00\x00\x00\x00\x01\x65\x8c\x01\x62\x94\x8f\x94\x28"
      "\x4b\x03\x90\x8c\x01\x63\x94\x47\x3f\xe0\x00\x00\x00\x00\x00\x00\x8c\x01\x64\x94\x43\x02"
      "\x78\x79\x94\x75\x2e");
  Loaded l = load(p5);
  ASSERT_EQ(l.root->kind, Kind::Dict);
  ASSERT_EQ(l.root->entries.size(), 4u);
  EXPECT_EQ(repr(*l.root->entries[0].second), "[1, -2, 1099511627776]");
  EXPECT_EQ(repr(*l.root->entries[1].second), "{3}");
  EXPECT_EQ(repr(*l.root->entries[2].second), "0.5");
  EXPECT_EQ(l.root->entries[3].second->s, "xy");
}

TEST(Pickle, CyclesThroughTheMemoDoNotLoop) {
  // l = []; l.append(l)  ->  ] q0 h0 a .
  Loaded l =
      load(bytes("\x80\x02]q\x00h\x00"
                 "a."));
  ASSERT_EQ(l.root->kind, Kind::List);
  EXPECT_EQ(l.root->items[0], l.root);
  EXPECT_FALSE(repr(*l.root).empty());
}

TEST(Pickle, RefusesDangerousOrBrokenInput) {
  EXPECT_NE(error_of("\x80\x02"
                     "cos\nsystem\n."),
            "no error");
  EXPECT_NE(error_of("\x80\x02"
                     "cos\nsystem\n.")
                .find("'os.system'"),
            std::string::npos);
  // STACK_GLOBAL builtins.eval
  EXPECT_NE(error_of("\x80\x04\x8c\x08"
                     "builtins\x8c\x04"
                     "eval\x93.")
                .find("builtins.eval"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02h\x07.").find("memo index 7 out of range"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02]K\x01K\x02s.").find("not a dict"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02t.").find("no MARK"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02"
                     "a.")
                .find("stack underflow"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02\xfe.").find("unknown opcode 0xfe"), std::string::npos);
  EXPECT_NE(error_of(bytes("\x80\x02X\xff\xff\xff\x7f"
                           "abc"))
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02]").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02K\x01)\x81.").find("not a class"), std::string::npos);
}

TEST(Pickle, UnknownClassesAreOpaqueObjectsWithTheirState) {
  // NEWOBJ of models.Net with BUILD {'depth': 3}: kept by name, nothing called.
  Loaded l =
      load(bytes("\x80"
                 "\x02"
                 "cmodels\x0a"
                 "Net\x0a"
                 ")\x81"
                 "}(X\x05"
                 "\x00"
                 "\x00"
                 "\x00"
                 "depthK\x03"
                 "ub."));
  ASSERT_EQ(l.root->kind, Kind::Object);
  EXPECT_EQ(l.root->s, "models.Net");
  ASSERT_NE(l.root->state, nullptr);
  EXPECT_EQ(repr(*dict_get(*l.root->state, "depth")), "3");
  EXPECT_EQ(repr(*l.root), "<models.Net object>");
  // Calling that class, or naming a gadget module anywhere, is refused by name.
  EXPECT_NE(error_of("\x80\x02"
                     "cmodels\nNet\n)R.")
                .find("calls 'models.Net'"),
            std::string::npos);
  for (const char* gadget :
       {"cbuiltins\ngetattr\n.", "csubprocess\nPopen\n.", "ctorch.serialization\nload\n.",
        "cnumpy\nload\n.", "cposix\nsystem\n)\x81."})
    EXPECT_NE(error_of(std::string("\x80\x02") + gadget).find("not allowed"), std::string::npos)
        << gadget;
}

TEST(Pickle, NumpyScalarsAsNumpyPrintsThem) {
  // numpy._core.multiarray.scalar(dtype('f8'), 8 bytes): how numpy 2 pickles np.float64(0.5).
  Loaded l =
      load(bytes("\x80"
                 "\x02"
                 "cnumpy._core.multiarray\x0a"
                 "scalar\x0a"
                 "cnumpy\x0a"
                 "dtype\x0a"
                 "X\x02"
                 "\x00"
                 "\x00"
                 "\x00"
                 "f8\x89"
                 "\x88"
                 "\x87"
                 "R(K\x03"
                 "X\x01"
                 "\x00"
                 "\x00"
                 "\x00"
                 "<NNNJ\xff"
                 "\xff"
                 "\xff"
                 "\xff"
                 "J\xff"
                 "\xff"
                 "\xff"
                 "\xff"
                 "K\x00"
                 "tbC\x08"
                 "\x00"
                 "\x00"
                 "\x00"
                 "\x00"
                 "\x00"
                 "\x00"
                 "\xe0"
                 "?\x86"
                 "R."));
  EXPECT_EQ(l.root->kind, Kind::Float);
  EXPECT_EQ(l.root->f, 0.5);
  EXPECT_EQ(repr(*l.root), "np.float64(0.5)");
}

}  // namespace
}  // namespace cnnscope::pickle
