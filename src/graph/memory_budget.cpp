// MemoryBudget (memory_budget.h): a c10::Allocator that forwards to LibTorch's default CPU
// allocator and, while the allocating thread has an active budget, counts the bytes in a context
// that gives them back when the DataPtr is freed. Spec: c10/core/Allocator.h (DataPtr, deleters),
// c10/core/CPUAllocator.h (SetCPUAllocator).
#include "graph/memory_budget.h"

#include <c10/core/CPUAllocator.h>

#include <mutex>
#include <string>

#include "common/text.h"
#include "graph/limits.h"

namespace cnnscope::graph {
namespace {

thread_local std::shared_ptr<MemoryBudget::Counter> active;

// What a counted allocation keeps: the real DataPtr and the counter to give its bytes back to.
struct Counted {
  c10::DataPtr inner;
  std::shared_ptr<MemoryBudget::Counter> counter;
  int64_t bytes;
};

void free_counted(void* ctx) {
  auto* counted = static_cast<Counted*>(ctx);
  counted->counter->live.fetch_sub(counted->bytes);
  delete counted;  // frees `inner` through its own deleter
}

class BudgetAllocator final : public c10::Allocator {
 public:
  explicit BudgetAllocator(c10::Allocator* base) : base_(base) {}

  c10::DataPtr allocate(size_t n) override {
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
    void* data = inner.get();
    const c10::Device device = inner.device();
    auto* counted = new Counted{std::move(inner), active, bytes};
    return {data, counted, &free_counted, device};
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

 private:
  c10::Allocator* base_;
};

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    static BudgetAllocator allocator(c10::GetDefaultCPUAllocator());
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
