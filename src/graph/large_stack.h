// Runs a function on a thread with a large stack (256 MiB, reserved, touched only as used) and
// waits for it, passing its exception on. For the recursive parts of loading a graph that the
// file's text drives (LibTorch's TorchScript parser and compiler recurse once per nesting level
// of an expression), so that nesting within the bounds the loaders check cannot overflow the
// caller's stack. Leaves out: running graphs (the interpreter bounds its own recursion).
#pragma once

#include <cstddef>
#include <functional>

namespace cnnscope::graph {

void on_large_stack(const std::function<void()>& fn);

}  // namespace cnnscope::graph
