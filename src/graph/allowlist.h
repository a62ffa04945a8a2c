// Which graph nodes cnnscope runs. Structural nodes (constants, attributes, control flow,
// containers, casts, calls) are executed by the interpreter itself (interpreter.cpp) with their
// types checked; every other node must be an operator of allowed_op(): pure tensor and scalar
// computation called through LibTorch's registered implementation (the ATen dispatcher for aten
// tensor ops). Nothing that reads or writes files, prints, spawns threads, makes uninitialised
// memory visible (aten::empty) or views raw memory (aten::as_strided, aten::from_file) is
// allowed. Spec: torch/csrc/jit/ir/ir.h (node kinds), aten/src/ATen/native/native_functions.yaml.
#pragma once

#include <string>

namespace cnnscope::graph {

// True for "aten::conv2d", "aten::add", "prim::device", ...: ops the interpreter may call.
bool allowed_op(const std::string& qualified_name);

}  // namespace cnnscope::graph
