// Timing one workload in one process: a warm-up, then several rounds, each long enough to swamp
// the clock. The rounds are returned as they are; the driver (compare.cpp) takes medians and
// spreads over the rounds of several processes.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace bench {

// Nanoseconds per call of `work` in each of `rounds` rounds of at least `round_seconds`.
inline std::vector<double> round_ns(const std::function<void()>& work, int rounds, double round_seconds) {
  using clock = std::chrono::steady_clock;
  // Warm up for a round's time: first-touch allocations, BLAS buffers, thread pools, caches.
  for (const auto start = clock::now(); std::chrono::duration<double>(clock::now() - start).count() < round_seconds;) {
    work();
  }
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
  return per_call;
}

// Seconds that one call of `work` takes.
inline double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bench
