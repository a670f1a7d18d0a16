// Where tensor storage and graph nodes come from: a per-thread cache of freed blocks.
//
// A training step allocates the same tensors, of the same sizes, every step. Taken from malloc
// afresh each time, the small ones cost malloc's bookkeeping (most of a scalar op's time) and
// the large ones go back to the system and return as fresh zeroed pages (page faults that can
// cost half a step). Like PyTorch's caching allocator, freed blocks are kept here by size class
// (64-byte aligned for SIMD, at most a fifth larger than asked for) and handed out again, so that after the first step
// a loop allocates nothing from the system.
//
// A block freed on another thread than it was allocated on joins that thread's cache; blocks
// are interchangeable. The cache of a thread is bounded (cache_limit) and given back when the
// thread ends or on release_cached_memory(). Builds with AUTOGRAD_NO_MEMORY_CACHE (the sanitizer
// build) pass every call straight to the system, so AddressSanitizer sees each block.
#pragma once

#include <cstddef>
#include <new>

namespace ag {

// Throws std::bad_alloc for a request that cannot be served, as operator new does.
void* cached_alloc(std::size_t bytes);
void cached_free(void* block, std::size_t bytes) noexcept;

// Gives this thread's cached blocks back to the system.
void release_cached_memory();
// Bytes held in this thread's cache, not in use.
std::size_t cached_bytes();
// The most this thread's cache keeps; blocks freed beyond it go back to the system. Default 1 GiB.
void set_cache_limit(std::size_t bytes);

template <class T>
struct CachingAllocator {
  using value_type = T;
  CachingAllocator() = default;
  template <class U>
  CachingAllocator(const CachingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_alloc();  // n * sizeof(T) would wrap
    return static_cast<T*>(cached_alloc(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { cached_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const CachingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace ag
