#include "autograd/allocator.hpp"

#include <array>
#include <bit>
#include <cstdlib>
#include <new>
#include <vector>

namespace ag {

namespace {

constexpr std::size_t kAlignment = 64;  // a cache line, and AVX-512's vector width
constexpr std::size_t kClasses = 48;    // block sizes 64 B .. 2^53 B

std::size_t size_class(std::size_t bytes) {
  return static_cast<std::size_t>(std::bit_width(std::max(bytes, kAlignment) - 1));
}

void* system_alloc(std::size_t bytes) {
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

struct ThreadCache {
  std::array<std::vector<void*>, kClasses> free_blocks;
  std::size_t bytes = 0;
  ~ThreadCache();
};

thread_local ThreadCache cache;
// Trivially destructible, so still readable while thread-local and static objects are destroyed:
// a block freed after this thread's cache is gone goes straight back to the system.
thread_local bool cache_alive = false;
std::size_t cache_limit = std::size_t{1} << 30;

void release(ThreadCache& c) {
  for (std::vector<void*>& blocks : c.free_blocks) {
    for (void* p : blocks) std::free(p);
    blocks.clear();
  }
  c.bytes = 0;
}

ThreadCache::~ThreadCache() {
  cache_alive = false;
  release(*this);
}

#ifdef AUTOGRAD_NO_MEMORY_CACHE
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif

}  // namespace

void* cached_alloc(std::size_t bytes) {
  const std::size_t c = size_class(bytes);
  if (kCaching) {
    cache_alive = true;
    std::vector<void*>& blocks = cache.free_blocks[c];
    if (!blocks.empty()) {
      void* p = blocks.back();
      blocks.pop_back();
      cache.bytes -= std::size_t{1} << c;
      return p;
    }
  }
  return system_alloc(std::size_t{1} << c);
}

void cached_free(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  const std::size_t c = size_class(bytes), size = std::size_t{1} << c;
  if (kCaching && cache_alive && cache.bytes + size <= cache_limit) {
    try {
      cache.free_blocks[c].push_back(block);
      cache.bytes += size;
      return;
    } catch (const std::bad_alloc&) {
      // no room to remember the block: give it back instead
    }
  }
  std::free(block);
}

void release_cached_memory() { release(cache); }
std::size_t cached_bytes() { return cache.bytes; }
void set_cache_limit(std::size_t bytes) { cache_limit = bytes; }

}  // namespace ag
