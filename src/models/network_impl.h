// Network's state, shared by registry.cpp (which builds it) and network.cpp (which runs it).
// Not a public header.
#pragma once

#include <vector>

#include "models/family.h"
#include "models/network.h"

namespace cnnscope::models {

struct Network::Impl {
  explicit Impl(detail::Built built);

  std::shared_ptr<detail::Layer> root;  // in eval mode
  ArchInfo info;
  std::vector<TapInfo> taps;  // named_modules() order, root excluded
};

}  // namespace cnnscope::models
