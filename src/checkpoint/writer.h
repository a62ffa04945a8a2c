// Checkpoint writers: a state_dict as a torch.save zip file (what Python's torch.load reads back
// as an OrderedDict of tensors), a nested Python value (a training checkpoint: dicts, lists,
// tuples, numbers, strings, None, tensors, state_dicts) the same way, and a state_dict as
// safetensors. All atomic: the file appears whole or not at all. Leaves out: sets, bytes, objects.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/state_dict.h"

namespace cnnscope {

// torch.save's zip format (pickle protocol 2, 64-byte aligned records). Tensors of any dtype in
// the dtype table; as torch.save, each storage is written once and whole, views keep their
// offset, sizes and strides (an expanded view is as small in the file as its storage).
void save_pth(const StateDict& sd, const std::string& path);

// A plain Python value as torch.save pickles it; torch.load(weights_only=True) reads it back.
struct PyValue {
  enum class Kind { None, Bool, Int, Float, Str, Tensor, List, Tuple, Dict, StateDict };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  at::Tensor tensor;
  std::vector<PyValue> items;                   // List, Tuple
  struct Entry;                                 // key -> value
  std::vector<Entry> entries;                   // Dict (a plain dict), in insertion order
  std::shared_ptr<const StateDict> state_dict;  // StateDict: an OrderedDict as save_pth's

  static PyValue none();
  static PyValue boolean(bool v);
  static PyValue integer(int64_t v);
  static PyValue real(double v);
  static PyValue str(std::string v);
  static PyValue of(at::Tensor t);
  static PyValue list(std::vector<PyValue> v);
  static PyValue tuple(std::vector<PyValue> v);
  static PyValue dict();
  static PyValue of(std::shared_ptr<const StateDict> sd);
  // Dict: appends key -> value; returns *this.
  PyValue& set(PyValue key, PyValue value);
  PyValue& set(const std::string& key, PyValue value);
};

// Entry is a named pair, and PyValue's inline members come after it: clang 14 with libstdc++ 12
// (C++20) instantiates std::vector's destructor (and std::pair's constructor checks) at the first
// body that needs one, and refuses an element type that is still incomplete there.
struct PyValue::Entry {
  PyValue key;
  PyValue value;
};
inline PyValue PyValue::none() {
  return {};
}
inline PyValue& PyValue::set(const std::string& key, PyValue value) {
  return set(str(key), std::move(value));
}

// torch.save(value) in the zip format; tensors of the dtypes save_pth writes.
void save_pth(const PyValue& value, const std::string& path);

// safetensors (header padded with spaces to 8 bytes, tensors in state_dict order). Values only: a
// view is written as its values, refused when they exceed its storage by more than 64 MiB.
void save_safetensors(const StateDict& sd, const std::string& path);

}  // namespace cnnscope
