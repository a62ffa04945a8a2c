// The memory budget of a graph run: while a MemoryBudget is active on a thread, every CPU tensor
// allocation made on that thread is counted against it (and released when the memory is freed,
// on any thread); an allocation that would pass the budget is refused before it is made, so
// aten::zeros of 2^50 elements fails at once instead of exhausting the machine. Works by wrapping
// LibTorch's CPU allocator (c10::SetCPUAllocator) once per process; threads with no active
// budget allocate exactly as before. Leaves out: memory that oneDNN or OpenMP workers allocate
// on their own threads (bounded by the sizes of the tensors they work on).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace cnnscope::graph {

class MemoryBudget {
 public:
  // Activates a budget of `max_bytes` on this thread until destroyed (budgets do not nest: the
  // previous one is restored).
  explicit MemoryBudget(int64_t max_bytes);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Bytes this budget's allocations hold now, and the most they held at once.
  int64_t live() const;
  int64_t peak() const;

  struct Counter {
    int64_t max_bytes = 0;
    std::atomic<int64_t> live{0};
    std::atomic<int64_t> peak{0};
  };

 private:
  std::shared_ptr<Counter> counter_;
  std::shared_ptr<Counter> previous_;
};

}  // namespace cnnscope::graph
