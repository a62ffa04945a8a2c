// The activations `cnnscope serve` keeps between requests: one forward pass per (model, image)
// (logits and the captured layers), least recently used first out when the bytes held pass a
// bound, so that switching layers on the same image does not run the network again. Thread-safe.
// Leaves out: sharing captures between models, persistence (nothing is written to disk).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace cnnscope::serve {

struct CachedForward {
  at::Tensor logits;                       // [classes] of the one image
  std::map<std::string, at::Tensor> taps;  // layer -> [C, H, W] (or the layer's own shape)
  int64_t bytes() const;                   // tensor storage held
};

class ActivationCache {
 public:
  explicit ActivationCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

  // The entry of `key` (now the most recently used), or nullptr.
  std::shared_ptr<const CachedForward> get(const std::string& key);

  // Stores (or replaces) `key`, then drops least recently used entries until the bytes held fit
  // max_bytes; an entry larger than max_bytes on its own is not kept (callers still use it).
  void put(const std::string& key, std::shared_ptr<const CachedForward> value);

  int64_t bytes() const;
  size_t size() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedForward>>;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t bytes_ = 0;
  int64_t max_bytes_;
};

}  // namespace cnnscope::serve
