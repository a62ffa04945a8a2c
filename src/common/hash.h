// FNV-1a 64 (Fowler–Noll–Vo, variant 1a, 64-bit): a fast, stable, non-cryptographic hash used as a
// cache key (serve's uploads) and as the identity of an image list (scan's shards). Leaves out:
// any resistance to chosen inputs (never use it where an attacker gains from a collision) and the
// 32-bit variant. Spec: http://www.isthe.com/chongo/tech/comp/fnv/ (FNV-1a, 64-bit parameters).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cnnscope {

constexpr uint64_t kFnv1a64Offset = 14695981039346656037ULL;

// The hash of `bytes`, continuing from `state` (the hash of what came before; the offset basis for
// a fresh hash), so that fnv1a64(b, fnv1a64(a)) == fnv1a64(a + b).
uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1a64Offset);

// 16 lower-case hex digits, zero-padded.
std::string hex64(uint64_t value);

}  // namespace cnnscope
