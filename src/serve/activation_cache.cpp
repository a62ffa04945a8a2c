// ActivationCache (see activation_cache.h): a list in use order plus a hash index, under one mutex.
#include "serve/activation_cache.h"

namespace cnnscope::serve {

int64_t CachedForward::bytes() const {
  int64_t total = logits.defined() ? static_cast<int64_t>(logits.nbytes()) : 0;
  for (const auto& [name, t] : taps)
    total +=
        static_cast<int64_t>(name.size()) + (t.defined() ? static_cast<int64_t>(t.nbytes()) : 0);
  return total;
}

std::shared_ptr<const CachedForward> ActivationCache::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void ActivationCache::put(const std::string& key, std::shared_ptr<const CachedForward> value) {
  const int64_t size = value->bytes();
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->second->bytes();
    order_.erase(it->second);
    index_.erase(it);
  }
  if (size > max_bytes_) return;
  order_.emplace_front(key, std::move(value));
  index_[key] = order_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_) {
    const Entry& last = order_.back();
    bytes_ -= last.second->bytes();
    index_.erase(last.first);
    order_.pop_back();
  }
}

int64_t ActivationCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

size_t ActivationCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return order_.size();
}

}  // namespace cnnscope::serve
