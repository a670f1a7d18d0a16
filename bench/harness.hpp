// A small timing harness: the median of several rounds, each long enough to swamp the clock.
//
// The machines are shared and noisy, so figures are compared as ratios between engines measured
// in the same process run, never as absolute times across runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// Nanoseconds per call of `work`: the median over `rounds` rounds of at least `round_seconds` each.
inline double median_ns(const std::function<void()>& work, int rounds = 7, double round_seconds = 0.15) {
  using clock = std::chrono::steady_clock;
  work();  // warm up: first-touch allocations, BLAS buffers, caches
  std::vector<double> per_call;
  for (int r = 0; r < rounds; ++r) {
    long calls = 0;
    const auto start = clock::now();
    std::chrono::duration<double> elapsed{};
    do {
      work();
      ++calls;
      elapsed = clock::now() - start;
    } while (elapsed.count() < round_seconds);
    per_call.push_back(elapsed.count() * 1e9 / static_cast<double>(calls));
  }
  std::nth_element(per_call.begin(), per_call.begin() + rounds / 2, per_call.end());
  return per_call[static_cast<std::size_t>(rounds / 2)];
}

}  // namespace bench
