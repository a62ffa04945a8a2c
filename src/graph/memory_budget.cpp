// MemoryBudget (memory_budget.h): a c10::Allocator that forwards to LibTorch's default CPU
// allocator and, while the allocating thread has an active budget, records each allocation's
// bytes by its address, given back by the raw deleter when the memory is freed. Spec:
// c10/core/Allocator.h (DataPtr, deleters), c10/core/CPUAllocator.h (SetCPUAllocator).
#include "graph/memory_budget.h"

#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

#include <mutex>
#include <string>
#include <unordered_map>

#include "common/text.h"
#include "graph/limits.h"

// LibTorch 2's Allocator::allocate is not const and it adds copy_data; Debian's LibTorch 1.13
// (the `TORCH=debian` build) has neither.
#if TORCH_VERSION_MAJOR >= 2
#define CNNSCOPE_ALLOCATE_CONST
#else
#define CNNSCOPE_ALLOCATE_CONST const
#endif

namespace cnnscope::graph {
namespace {

thread_local std::shared_ptr<MemoryBudget::Counter> active;

// The counted allocations: data pointer -> (counter, bytes). DataPtrs stay "simple" (data ==
// context, one raw deleter), as LibTorch's raw_allocate users (oneDNN's scratchpads) require.
struct Counted {
  std::shared_ptr<MemoryBudget::Counter> counter;
  int64_t bytes = 0;
};
std::mutex counted_mutex;
std::unordered_map<void*, Counted> counted;
c10::DeleterFnPtr base_deleter = nullptr;

void free_counted(void* data) {
  {
    std::lock_guard<std::mutex> lock(counted_mutex);
    auto it = counted.find(data);
    if (it != counted.end()) {
      it->second.counter->live.fetch_sub(it->second.bytes);
      counted.erase(it);
    }
  }
  base_deleter(data);
}

class BudgetAllocator final : public c10::Allocator {
 public:
  explicit BudgetAllocator(c10::Allocator* base) : base_(base) {}

  c10::DataPtr allocate(size_t n) CNNSCOPE_ALLOCATE_CONST override {
    if (!active) return base_->allocate(n);
    const auto bytes = static_cast<int64_t>(n);
    const int64_t live = active->live.fetch_add(bytes) + bytes;
    if (bytes > active->max_bytes || live > active->max_bytes) {
      active->live.fetch_sub(bytes);
      throw LimitError("its memory budget of " + human_bytes(active->max_bytes) + " (a tensor of " +
                       human_bytes(bytes) + " asked for, " + human_bytes(live - bytes) +
                       " in use)");
    }
    int64_t peak = active->peak.load();
    while (live > peak && !active->peak.compare_exchange_weak(peak, live)) {
    }
    c10::DataPtr inner = base_->allocate(n);
    if (inner.get() != inner.get_context() || inner.get_deleter() != base_deleter) {
      active->live.fetch_sub(bytes);  // not the default allocator's simple pointer: uncounted
      return inner;
    }
    const c10::Device device = inner.device();
    void* data = inner.release_context();
    if (data) {
      std::lock_guard<std::mutex> lock(counted_mutex);
      counted[data] = {active, bytes};
    } else {
      active->live.fetch_sub(bytes);  // n == 0
    }
    return {data, data, &free_counted, device};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &free_counted; }

#if TORCH_VERSION_MAJOR >= 2
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#endif

 private:
  c10::Allocator* base_;
};

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    c10::Allocator* base = c10::GetDefaultCPUAllocator();
    base_deleter = base->raw_deleter();
    TORCH_CHECK(base_deleter, "LibTorch's CPU allocator has no raw deleter");
    static BudgetAllocator allocator(base);
    // Above the default priority (0) so that later default registrations do not replace it.
    constexpr uint8_t kPriority = 1;
    c10::SetCPUAllocator(&allocator, kPriority);
  });
}

}  // namespace

MemoryBudget::MemoryBudget(int64_t max_bytes) : counter_(std::make_shared<Counter>()) {
  install_once();
  counter_->max_bytes = max_bytes;
  previous_ = std::move(active);
  active = counter_;
}

MemoryBudget::~MemoryBudget() {
  active = std::move(previous_);
}

int64_t MemoryBudget::live() const {
  return counter_->live.load();
}
int64_t MemoryBudget::peak() const {
  return counter_->peak.load();
}

}  // namespace cnnscope::graph
