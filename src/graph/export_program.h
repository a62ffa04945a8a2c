// A torch.export program (read by checkpoint/pt2.h) lowered to a Dataflow (dataflow.h): each
// graph node an ATen operator of the allowlist (allowlist.h), called through LibTorch's
// dispatcher with its arguments matched to the operator's registered schema; weights, buffers and
// constants bound to their placeholders; each node's nn_module_stack kept as its scopes for taps.
// Anything else is refused by name before anything runs: another namespace (a custom
// `mylib::op`), a higher-order op, an argument the schema does not take. Spec:
// torch/_export/serde/schema.py (Graph, Node, Argument, GraphSignature), serialize.py (how
// nn_module_stack is written: "key,path,class" joined by ';').
#pragma once

#include "checkpoint/pt2.h"
#include "graph/dataflow.h"

namespace cnnscope::graph {

// Throws Refused (an op or argument cnnscope does not run) or Error (a malformed program).
Dataflow lower_export_program(const Pt2File& file);

}  // namespace cnnscope::graph
