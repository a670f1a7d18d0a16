#include "autograd/allocator.hpp"

#include <array>
#include <bit>
#include <cstdlib>
#include <new>
#include <vector>

namespace ag {

namespace {

constexpr std::size_t kAlignment = 64;    // a cache line, and AVX-512's vector width
constexpr std::size_t kClasses = 65 * 4;  // every index size_class() can return
// Above this a request is refused (bad_alloc) before size_class() could overflow; 1 GiB where
// size_t has 32 bits (WebAssembly), whose blocks of up to 2^31 bytes still fit.
constexpr std::size_t kLargestRequest = std::size_t{1} << (sizeof(std::size_t) == 8 ? 56 : 30);

// Block sizes: 64, 128, 256, then four per power of two (320, 384, 448, 512, 640, ...), so that a
// block wastes at most a fifth of itself (a graph node of 384 bytes is not rounded up to 512).
struct SizeClass {
  std::size_t index, bytes;
};

SizeClass size_class(std::size_t bytes) {
  const auto octave =
      static_cast<std::size_t>(std::bit_width(std::max(bytes, kAlignment) - 1));  // 2^(octave-1) < bytes <= 2^octave
  if (octave <= 8) return {octave * 4, std::size_t{1} << octave};
  const std::size_t quarter = std::size_t{1} << (octave - 3);  // a quarter of the octave's lower bound
  const std::size_t steps = (bytes - (std::size_t{1} << (octave - 1)) + quarter - 1) / quarter;  // 1..4
  return {(octave - 1) * 4 + steps, (std::size_t{1} << (octave - 1)) + steps * quarter};
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
  // No machine has 2^56 bytes; past that, rounding up to a size class would overflow to a small block.
  if (bytes > kLargestRequest) throw std::bad_alloc();
  const SizeClass c = size_class(bytes);
  if (kCaching) {
    cache_alive = true;
    std::vector<void*>& blocks = cache.free_blocks[c.index];
    if (!blocks.empty()) {
      void* p = blocks.back();
      blocks.pop_back();
      cache.bytes -= c.bytes;
      return p;
    }
  }
  return system_alloc(c.bytes);
}

void cached_free(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  const SizeClass c = size_class(bytes);
  if (kCaching && cache_alive && cache.bytes + c.bytes <= cache_limit) {
    try {
      cache.free_blocks[c.index].push_back(block);
      cache.bytes += c.bytes;
      return;
    } catch (const std::bad_alloc&) {
      // no room to remember the block: give it back instead
    }
  }
  std::free(block);
}

void release_cached_memory() {
  release(cache);
}
std::size_t cached_bytes() {
  return cache.bytes;
}
void set_cache_limit(std::size_t bytes) {
  cache_limit = bytes;
}

}  // namespace ag
