// Network's state, shared by the backends' files (which build it) and network.cpp (which runs it).
// Not a public header.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "models/backend.h"
#include "models/network.h"

namespace cnnscope::models {

struct Network::Impl {
  Impl(ArchInfo info, std::vector<TapInfo> taps, std::shared_ptr<const detail::Backend> backend)
      : info(std::move(info)), taps(std::move(taps)), backend(std::move(backend)) {}

  ArchInfo info;
  std::vector<TapInfo> taps;                       // named_modules() order, root excluded
  std::shared_ptr<const detail::Backend> backend;  // what runs it (backend.h)
};

}  // namespace cnnscope::models
