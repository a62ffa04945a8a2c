// common/parallel.h: every index runs exactly once, and the lowest failing index's error is the
// one rethrown after all tasks finished.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "common/parallel.h"

namespace cnnscope {
namespace {

TEST(Parallel, EveryIndexOnce) {
  std::vector<std::atomic<int>> hits(1000);
  for_each_parallel(hits.size(), [&](size_t i) { ++hits[i]; });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
  for_each_parallel(0, [](size_t) { FAIL() << "no task for n = 0"; });
}

TEST(Parallel, RethrowsLowestFailureAfterAllRan) {
  std::atomic<int> ran{0};
  try {
    for_each_parallel(50, [&](size_t i) {
      ++ran;
      if (i == 7 || i == 30) throw std::runtime_error("task " + std::to_string(i));
    });
    FAIL() << "expected a failure";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 7");
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace cnnscope
