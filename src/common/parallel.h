// Runs independent tasks on a small pool of std::threads (one per hardware thread), for work that
// is not a LibTorch op: drawing figures, statistics of many tensors. Leaves out: work stealing,
// nested parallelism and cancellation; LibTorch's own ops keep using at::parallel_for.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace cnnscope {

// Calls task(i) for every i in [0, n), items taken in order by up to hardware_concurrency
// threads (the caller's among them). Once all are done, rethrows the failure of the lowest index.
template <typename Task>
void for_each_parallel(size_t n, const Task& task) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  const auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace cnnscope
