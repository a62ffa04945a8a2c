// MemoryBudget (src/graph/memory_budget.h): allocations on the budget's thread are counted and
// refused past the budget before they are made; freeing gives the bytes back; other threads and
// code outside a budget allocate as before.
#include <gtest/gtest.h>

#include <thread>

#include "graph/limits.h"
#include "graph/memory_budget.h"

namespace cnnscope::graph {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(MemoryBudget, RefusesPastTheBudgetAndGivesBytesBack) {
  MemoryBudget budget(kMiB);
  {
    at::Tensor small = at::zeros({1000});  // [1000] float32: 4000 bytes
    EXPECT_GE(budget.live(), 4000);
    EXPECT_THROW(at::zeros({kMiB}), LimitError);  // 4 MiB
    at::Tensor more = at::zeros({100000});        // 400 KB: fits beside `small`
    EXPECT_GE(budget.peak(), 404000);
  }
  EXPECT_EQ(budget.live(), 0);
  // 2^50 elements are refused at once, not attempted.
  EXPECT_THROW(at::zeros({int64_t{1} << 50}), LimitError);
}

TEST(MemoryBudget, SumsLiveTensors) {
  MemoryBudget budget(kMiB);
  at::Tensor a = at::zeros({kMiB / 8});  // 512 KB
  at::Tensor b = at::zeros({kMiB / 8});  // 512 KB: the budget is full
  EXPECT_THROW(at::zeros({kMiB / 8}), LimitError);
  a.reset();
  EXPECT_NO_THROW(at::zeros({kMiB / 8}));
}

TEST(MemoryBudget, OnlyItsThreadAndOnlyWhileActive) {
  {
    MemoryBudget budget(kMiB);
    bool other_ok = false;
    std::thread other([&] { other_ok = at::zeros({2 * kMiB}).numel() == 2 * kMiB; });
    other.join();
    EXPECT_TRUE(other_ok);
    EXPECT_EQ(budget.live(), 0);
  }
  EXPECT_EQ(at::zeros({2 * kMiB}).numel(), 2 * kMiB);  // no budget: as before
}

}  // namespace
}  // namespace cnnscope::graph
