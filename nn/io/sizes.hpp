// Sizes read from files: products that cannot wrap around (internal to nn's readers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ag::nn::detail {

// a * b, or nothing when it does not fit: a header declaring 16 x 2^30 x 2^30 elements must not
// wrap to 0 and pass for an empty array.
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

// deflate emits at most 258 bytes per 2 bits of input, so n compressed bytes inflate to at most
// 1032 n (zlib's FAQ). A size declared beyond that cannot be real: reject it before allocating.
inline std::uint64_t max_inflated_size(std::uint64_t compressed) {
  const auto bound = checked_mul(compressed + 1, 1032);
  return bound ? *bound : UINT64_MAX;
}

}  // namespace ag::nn::detail
