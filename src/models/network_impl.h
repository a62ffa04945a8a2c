// Network's state, shared by registry.cpp (which builds it) and network.cpp (which runs it).
// Not a public header.
#pragma once

#include <vector>

#include "models/family.h"
#include "models/network.h"

namespace cnnscope::models {

struct Network::Impl {
  Impl(detail::Built built, const detail::Family& family);

  std::shared_ptr<detail::Layer> root;  // in eval mode
  ArchInfo info;
  const detail::Family* family;  // the family it was built by (default and all layers)
  std::vector<TapInfo> taps;     // named_modules() order, root excluded
};

}  // namespace cnnscope::models
