// Network's state, shared by registry.cpp (which builds it) and network.cpp (which runs it).
// Not a public header.
#pragma once

#include <vector>

#include "models/backend.h"
#include "models/family.h"
#include "models/network.h"

namespace cnnscope::models {

struct Network::Impl {
  Impl(detail::Built built, const detail::Family& family);
  // A network of another backend (a TorchScript module): `root` and `family` null; module() gives
  // `placeholder`, an empty module named `root_type` (the root's class name).
  Impl(ArchInfo info, std::vector<TapInfo> taps, std::shared_ptr<const detail::Backend> backend,
       const std::string& root_type);

  std::shared_ptr<detail::Layer> root;  // in eval mode
  std::shared_ptr<const detail::Backend> backend;  // null for zoo networks
  std::shared_ptr<torch::nn::Module> placeholder;  // backend networks: module()'s answer
  ArchInfo info;
  const detail::Family* family;  // the family it was built by (default and all layers)
  std::vector<TapInfo> taps;     // named_modules() order, root excluded
};

}  // namespace cnnscope::models
