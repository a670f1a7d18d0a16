// Accurate sums at any size; not part of the public API.
//
// A running float sum stops growing at 2^24 and loses digits long before: its rounding error
// grows with the number of terms. Here every sum is accumulated in a wider type (double for
// float), contiguous runs are added pairwise (split in halves down to blocks of 128, each block
// with eight independent partial sums, which the compiler vectorises: numpy's scheme), and the
// terms of a sum over outer axes are added in blocks of 128 whose partial sums are combined
// pairwise. The error then grows with log2 of the length, not with the length.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "autograd/parallel.hpp"
#include "autograd/tensor.hpp"

namespace ag::detail {

template <class T>
using Accumulator = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class T>
using Buffer = std::vector<Accumulator<T>, CachingAllocator<Accumulator<T>>>;

inline constexpr std::size_t kSumBlock = 128;

// The sum of n contiguous values, pairwise.
template <class T>
Accumulator<T> pairwise_sum(const T* x, std::size_t n) {
  using A = Accumulator<T>;
  if (n <= kSumBlock) {
    A p[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (std::size_t k = 0; k < 8; ++k) p[k] += static_cast<A>(x[i + k]);
    }
    A s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    for (; i < n; ++i) s += static_cast<A>(x[i]);
    return s;
  }
  const std::size_t half = (n / 2) & ~std::size_t{7};
  return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

// The same sum with its two halves on two threads when it is long: bit for bit pairwise_sum's.
template <class T>
Accumulator<T> parallel_pairwise_sum(const T* x, std::size_t n) {
  if (n <= kSumBlock || !parallel_pays(2, n)) return pairwise_sum(x, n);
  const std::size_t half = (n / 2) & ~std::size_t{7};
  Accumulator<T> halves[2] = {};
  run_parallel(2, [&](std::size_t begin, std::size_t end) {
    for (std::size_t h = begin; h < end; ++h)
      halves[h] = h == 0 ? pairwise_sum(x, half) : pairwise_sum(x + half, n - half);
  });
  return halves[0] + halves[1];
}

// Partial sums of equal weight combined like a binary counter: the k-th block joins the level
// matching the lowest set bit of k, so each term passes through log2(blocks) additions.
template <class T>
class Cascade {
 public:
  explicit Cascade(std::size_t width) : width_(width) {}

  void add(Buffer<T> block) {
    std::size_t level = 0;
    for (std::size_t n = blocks_++; n & 1; n >>= 1, ++level) {
      for (std::size_t j = 0; j < width_; ++j) block[j] += levels_[level][j];
    }
    if (levels_.size() <= level) levels_.resize(level + 1);
    levels_[level] = std::move(block);
  }

  // The sum of every block, smallest levels first.
  Buffer<T> total() {
    Buffer<T> sum(width_, Accumulator<T>(0));
    for (std::size_t level = 0; level < levels_.size(); ++level) {
      if (!((blocks_ >> level) & 1)) continue;
      for (std::size_t j = 0; j < width_; ++j) sum[j] += levels_[level][j];
    }
    return sum;
  }

 private:
  std::size_t width_, blocks_ = 0;
  std::vector<Buffer<T>> levels_;
};

// One axis of a reduction after squeezing out the axes of size 1 and merging neighbours that are
// both reduced or both kept (they are contiguous in memory, so they act as one axis).
struct SumAxis {
  std::size_t size;
  bool reduced;
  std::size_t in_stride = 0, out_stride = 0;
};

// The axes of `big` against `small`, which broadcasts to it (the same rank with some axes 1, or
// leading axes missing): axes of size 1 squeezed out, neighbours both reduced (repeated, seen from
// broadcasting) or both kept merged, with their strides in `big` (in_stride) and in `small`
// (out_stride, 0 along reduced axes). Summing big down to small and broadcasting small up to big
// walk the same axes.
inline std::vector<SumAxis> merged_axes(const Shape& big, const Shape& small) {
  const std::size_t lead = big.size() - small.size();
  std::vector<SumAxis> axes;
  for (std::size_t i = 0; i < big.size(); ++i) {
    if (big[i] == 1) continue;
    const bool reduced = i < lead || small[i - lead] == 1;
    if (!axes.empty() && axes.back().reduced == reduced) {
      axes.back().size *= big[i];
    } else {
      axes.push_back({big[i], reduced});
    }
  }
  for (std::size_t i = axes.size(), in_stride = 1, out_stride = 1; i-- > 0;) {
    axes[i].in_stride = in_stride;
    in_stride *= axes[i].size;
    if (!axes[i].reduced) {
      axes[i].out_stride = out_stride;
      out_stride *= axes[i].size;
    }
  }
  return axes;
}

// Walks the multi-indices of some axes in row-major order, keeping their input and output offsets;
// after the last one it wraps around to the first.
struct Odometer {
  std::vector<SumAxis> axes;
  std::vector<std::size_t> index;
  std::size_t count = 1, in_offset = 0, out_offset = 0;

  explicit Odometer(std::vector<SumAxis> a) : axes(std::move(a)), index(axes.size(), 0) {
    for (const SumAxis& x : axes) count *= x.size;
  }
  // Jumps to the n-th multi-index: where a thread's share of the walk begins.
  void seek(std::size_t n) {
    in_offset = out_offset = 0;
    for (std::size_t i = axes.size(); i-- > 0;) {
      index[i] = n % axes[i].size;
      n /= axes[i].size;
      in_offset += index[i] * axes[i].in_stride;
      out_offset += index[i] * axes[i].out_stride;
    }
  }
  void advance() {
    for (std::size_t i = axes.size(); i-- > 0;) {
      in_offset += axes[i].in_stride;
      out_offset += axes[i].out_stride;
      if (++index[i] < axes[i].size) return;
      in_offset -= axes[i].in_stride * axes[i].size;
      out_offset -= axes[i].out_stride * axes[i].size;
      index[i] = 0;
    }
  }
};

// Sums `in` down to `kept`: the same rank with reduced axes 1, or a shape missing leading axes
// (sum_to's contract).
template <class T>
Tensor<T> sum_reduce(const Tensor<T>& in, const Shape& kept) {
  using A = Accumulator<T>;
  Tensor<T> out = full<T>(kept, T(0));
  if (in.size() == 0) return out;
  if (out.size() == 1) {  // everything: one pairwise sum, no bookkeeping
    out.data()[0] = static_cast<T>(parallel_pairwise_sum(in.data(), in.size()));
    return out;
  }
  std::vector<SumAxis> axes = merged_axes(to_shape(in.shape()), kept);
  const SumAxis inner = axes.back();
  axes.pop_back();

  // The reduced outer axes step through terms that go to the same outputs; the kept outer axes
  // through rows (runs along the innermost axis) that go to different outputs.
  std::vector<SumAxis> steps_axes, rows_axes;
  for (const SumAxis& a : axes) (a.reduced ? steps_axes : rows_axes).push_back(a);
  Odometer steps(steps_axes), rows(rows_axes);

  // When the innermost axis is kept, threads take separate ranges [j0, j1) of it: each output is
  // still summed in the same order, so the result does not depend on the number of threads.
  const auto sum_columns = [&](std::size_t j0, std::size_t j1) {
    Odometer step = steps, row = rows;
    Cascade<T> cascade(out.size());
    Buffer<T> block;
    for (std::size_t first = 0; first < step.count; first += kSumBlock) {
      block.assign(out.size(), A(0));
      const std::size_t last = std::min(step.count, first + kSumBlock);
      for (std::size_t s = first; s < last; ++s, step.advance()) {
        for (std::size_t r = 0; r < row.count; ++r, row.advance()) {
          const T* src = in.data() + step.in_offset + row.in_offset;
          if (inner.reduced) {
            block[row.out_offset] += pairwise_sum(src, inner.size);
          } else {
            A* dst = block.data() + row.out_offset;
            for (std::size_t j = j0; j < j1; ++j) dst[j] += static_cast<A>(src[j]);
          }
        }
      }
      if (step.count <= kSumBlock) break;  // one block: it is the total
      cascade.add(std::move(block));
      block = Buffer<T>();
    }
    if (step.count > kSumBlock) block = cascade.total();
    if (inner.reduced) {  // one range, every output
      std::transform(block.begin(), block.end(), out.begin(), [](A v) { return static_cast<T>(v); });
      return;
    }
    for (std::size_t o = 0; o < out.size(); o += inner.size) {
      for (std::size_t j = j0; j < j1; ++j) out.data()[o + j] = static_cast<T>(block[o + j]);
    }
  };
  if (inner.reduced) {
    sum_columns(0, inner.size);
  } else {
    parallel_ranges(inner.size, in.size(), sum_columns);
  }
  return out;
}

}  // namespace ag::detail
