// ActivationCache (serve/activation_cache.h): hits, least-recently-used eviction by bytes, an
// entry larger than the bound not kept, replacement, and concurrent use from several threads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "serve/activation_cache.h"

namespace cnnscope::serve {
namespace {

constexpr int64_t kFloatBytes = 4;

// An entry of `floats` float32 values in one tap (no logits).
std::shared_ptr<const CachedForward> entry(int64_t floats) {
  auto e = std::make_shared<CachedForward>();
  e->taps.emplace("", at::zeros({floats}, at::kFloat));  // [floats]
  return e;
}

TEST(ActivationCache, BytesCountTheTensorsAndNames) {
  CachedForward e;
  e.logits = at::zeros({5}, at::kFloat);                   // [5]
  e.taps.emplace("ab", at::zeros({2, 3, 4}, at::kFloat));  // [2, 3, 4]
  EXPECT_EQ(e.bytes(), 5 * kFloatBytes + 2 + 24 * kFloatBytes);
}

TEST(ActivationCache, EvictsTheLeastRecentlyUsed) {
  ActivationCache cache(3 * 100 * kFloatBytes);
  cache.put("a", entry(100));
  cache.put("b", entry(100));
  cache.put("c", entry(100));
  EXPECT_EQ(cache.size(), 3U);
  ASSERT_NE(cache.get("a"), nullptr);  // a is now the most recent: b goes first
  cache.put("d", entry(100));
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_NE(cache.get("a"), nullptr);
  EXPECT_NE(cache.get("c"), nullptr);
  EXPECT_NE(cache.get("d"), nullptr);
  EXPECT_EQ(cache.bytes(), 3 * 100 * kFloatBytes);
  cache.put("e", entry(250));  // 100 + 250 do not fit with anything else: a, c, d all go
  EXPECT_NE(cache.get("e"), nullptr);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.bytes(), 250 * kFloatBytes);
  cache.put("f", entry(50));  // 250 + 50 fit: both kept
  EXPECT_EQ(cache.size(), 2U);
}

TEST(ActivationCache, TooLargeIsNotKeptAndReplaceUpdatesBytes) {
  ActivationCache cache(100 * kFloatBytes);
  cache.put("huge", entry(101));
  EXPECT_EQ(cache.get("huge"), nullptr);
  EXPECT_EQ(cache.bytes(), 0);
  cache.put("x", entry(10));
  cache.put("x", entry(20));
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.bytes(), 20 * kFloatBytes);
  cache.put("x", entry(200));  // a replacement too large drops the old entry as well
  EXPECT_EQ(cache.get("x"), nullptr);
  EXPECT_EQ(cache.bytes(), 0);
}

TEST(ActivationCache, ConcurrentUseStaysWithinTheBound) {
  constexpr int kThreads = 8, kOps = 2000, kKeys = 50;
  const int64_t bound = 10 * 16 * kFloatBytes;
  ActivationCache cache(bound);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::string key = std::to_string((t * 7 + i) % kKeys);
        if (i % 3 == 0) {
          cache.put(key, entry(16));
        } else if (auto e = cache.get(key)) {
          EXPECT_EQ(e->taps.at("").numel(), 16);
        }
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_LE(cache.bytes(), bound);
  EXPECT_EQ(cache.bytes(), static_cast<int64_t>(cache.size()) * 16 * kFloatBytes);
}

}  // namespace
}  // namespace cnnscope::serve
