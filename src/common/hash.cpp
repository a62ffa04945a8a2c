// FNV-1a 64 (see hash.h): per byte, xor then multiply by the 64-bit FNV prime.
#include "common/hash.h"

#include <cstdio>

namespace cnnscope {

uint64_t fnv1a64(std::string_view bytes, uint64_t state) {
  constexpr uint64_t kPrime = 1099511628211ULL;
  for (const char c : bytes) state = (state ^ static_cast<unsigned char>(c)) * kPrime;
  return state;
}

std::string hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace cnnscope
