#include "autograd/ops/conv_dnnl.hpp"

#include <atomic>

#ifdef AUTOGRAD_DNNL
#include <array>
#include <dnnl.hpp>
#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autograd/parallel.hpp"
#include "autograd/tensor.hpp"
#ifdef AUTOGRAD_OPENMP
#include <omp.h>
#endif
#endif

namespace ag::detail {

namespace {

#ifdef AUTOGRAD_DNNL
constexpr bool kBuiltIn = true;
#else
constexpr bool kBuiltIn = false;
#endif

std::atomic<bool> enabled{kBuiltIn};
std::atomic<std::size_t> runs{0};

}  // namespace

void set_dnnl_convolutions(bool on) {
  enabled.store(on && kBuiltIn, std::memory_order_relaxed);
}
bool dnnl_convolutions_enabled() {
  return enabled.load(std::memory_order_relaxed);
}
std::size_t dnnl_convolutions_run() {
  return runs.load(std::memory_order_relaxed);
}

#ifndef AUTOGRAD_DNNL

bool dnnl_conv_forward(const ConvGeometry&, const float*, const float*, const float*, float*) {
  return false;
}
bool dnnl_conv_backward_data(const ConvGeometry&, const float*, const float*, float*) {
  return false;
}
bool dnnl_conv_backward_weights(const ConvGeometry&, const float*, const float*, float*) {
  return false;
}

#else

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

enum class Kind { forward, forward_with_bias, backward_data, backward_weights };

// One convolution in our layouts: images [N, C, H, W]; weights [F, C / groups, KH, KW], which
// oneDNN reads as [groups, F / groups, C / groups, KH, KW] when there are groups (the same memory).
struct Descriptors {
  memory::desc src, weights, bias, dst;
  memory::dims strides, dilates, padding;
};

Descriptors descriptors(const ConvGeometry& g) {
  const auto d = [](std::size_t v) { return static_cast<memory::dim>(v); };
  const auto f32 = memory::data_type::f32;
  const memory::dims kernel{d(g.rows.kernel), d(g.cols.kernel)};
  const memory::desc weights =
      g.groups == 1 ? memory::desc({d(g.f), d(g.c), kernel[0], kernel[1]}, f32, Tag::oihw)
                    : memory::desc({d(g.groups), d(g.group_filters()), d(g.group_channels()), kernel[0], kernel[1]},
                                   f32, Tag::goihw);
  // oneDNN counts dilation from 0 (no gap between taps); we count it from 1, as PyTorch does.
  return {memory::desc({d(g.n), d(g.c), d(g.rows.in), d(g.cols.in)}, f32, Tag::nchw),
          weights,
          memory::desc({d(g.f)}, f32, Tag::x),
          memory::desc({d(g.n), d(g.f), d(g.rows.out), d(g.cols.out)}, f32, Tag::nchw),
          {d(g.rows.stride), d(g.cols.stride)},
          {d(g.rows.dilation) - 1, d(g.cols.dilation) - 1},
          {d(g.rows.pad), d(g.cols.pad)}};
}

// The same tensor in whatever layout the kernel prefers.
memory::desc any(const memory::desc& plain) {
  return memory::desc(plain.dims(), plain.data_type(), Tag::any);
}

// One argument of a convolution: its oneDNN name, its layout in our tensor, the layout the kernel
// chose, and when the two differ the reorder between them (ours to the kernel's for an input, back
// for the output).
struct Operand {
  int id;
  memory::desc plain, chosen;
  std::optional<dnnl::reorder> convert;
};

Operand input(int id, const memory::desc& plain, const memory::desc& chosen) {
  if (plain == chosen) return {id, plain, chosen, std::nullopt};
  return {id, plain, chosen, dnnl::reorder(dnnl::reorder::primitive_desc(cpu(), plain, cpu(), chosen))};
}
Operand output(int id, const memory::desc& plain, const memory::desc& chosen) {
  if (plain == chosen) return {id, plain, chosen, std::nullopt};
  return {id, plain, chosen, dnnl::reorder(dnnl::reorder::primitive_desc(cpu(), chosen, cpu(), plain))};
}

// A convolution ready to run: its kernel, its inputs in the order the callers pass them, its
// output, and the scratch memory it needs (ours, from the block cache, rather than oneDNN's).
struct Prepared {
  dnnl::primitive kernel;
  std::vector<Operand> inputs;
  Operand output;
  memory::desc scratchpad;
};

// Builds the kernel for one convolution, or nothing when oneDNN has only its reference code for it
// (slower than the BLAS lowering) or rejects it.
template <class PrimitiveDesc, class Primitive>
std::optional<Prepared> prepared(const PrimitiveDesc& pd, std::vector<Operand> inputs, Operand result) {
  if (std::string_view(pd.impl_info_str()).substr(0, 3) == "ref") return std::nullopt;
  return Prepared{Primitive(pd), std::move(inputs), std::move(result), pd.scratchpad_desc()};
}

std::optional<Prepared> prepare(const ConvGeometry& g, Kind kind) {
  using dnnl::convolution_backward_data;
  using dnnl::convolution_backward_weights;
  using dnnl::convolution_forward;
  const Descriptors d = descriptors(g);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto direct = dnnl::algorithm::convolution_direct;
  const auto training = dnnl::prop_kind::forward_training;
  try {
    // The forward's descriptor is also the backward kernels' hint.
    const convolution_forward::primitive_desc forward(
        kind == Kind::forward_with_bias
            ? convolution_forward::desc(training, direct, any(d.src), any(d.weights), d.bias, any(d.dst), d.strides,
                                        d.dilates, d.padding, d.padding)
            : convolution_forward::desc(training, direct, any(d.src), any(d.weights), any(d.dst), d.strides, d.dilates,
                                        d.padding, d.padding),
        attr, cpu());
    switch (kind) {
      case Kind::forward:
      case Kind::forward_with_bias: {
        std::vector<Operand> inputs{input(DNNL_ARG_SRC, d.src, forward.src_desc()),
                                    input(DNNL_ARG_WEIGHTS, d.weights, forward.weights_desc())};
        if (kind == Kind::forward_with_bias) inputs.push_back(input(DNNL_ARG_BIAS, d.bias, d.bias));
        return prepared<convolution_forward::primitive_desc, convolution_forward>(
            forward, std::move(inputs), output(DNNL_ARG_DST, d.dst, forward.dst_desc()));
      }
      case Kind::backward_data: {
        const convolution_backward_data::primitive_desc data(
            convolution_backward_data::desc(direct, any(d.src), any(d.weights), any(d.dst), d.strides, d.dilates,
                                            d.padding, d.padding),
            attr, cpu(), forward);
        return prepared<convolution_backward_data::primitive_desc, convolution_backward_data>(
            data,
            {input(DNNL_ARG_DIFF_DST, d.dst, data.diff_dst_desc()),
             input(DNNL_ARG_WEIGHTS, d.weights, data.weights_desc())},
            output(DNNL_ARG_DIFF_SRC, d.src, data.diff_src_desc()));
      }
      case Kind::backward_weights: {
        const convolution_backward_weights::primitive_desc weights(
            convolution_backward_weights::desc(direct, any(d.src), any(d.weights), any(d.dst), d.strides, d.dilates,
                                               d.padding, d.padding),
            attr, cpu(), forward);
        return prepared<convolution_backward_weights::primitive_desc, convolution_backward_weights>(
            weights,
            {input(DNNL_ARG_SRC, d.src, weights.src_desc()), input(DNNL_ARG_DIFF_DST, d.dst, weights.diff_dst_desc())},
            output(DNNL_ARG_DIFF_WEIGHTS, d.weights, weights.diff_weights_desc()));
      }
    }
  } catch (const dnnl::error&) {
  }
  return std::nullopt;
}

// oneDNN sizes its work split and scratch memory for the calling thread's OpenMP thread count when
// a kernel is built, and runs on that many: it is set to the engine's own for the call.
class ThreadCount {
 public:
  ThreadCount() {
#ifdef AUTOGRAD_OPENMP
    before_ = omp_get_max_threads();
    omp_set_num_threads(num_threads());
#endif
  }
  ~ThreadCount() {
#ifdef AUTOGRAD_OPENMP
    omp_set_num_threads(before_);
#endif
  }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int before_ = 1;
};

// Kernels already built, per thread (building one costs far more than a small convolution), by the
// convolution's kind, sizes and thread count; nothing where oneDNN has no kernel.
using Key = std::array<std::size_t, 16>;

const std::optional<Prepared>& kernel_for(const ConvGeometry& g, Kind kind) {
  thread_local std::map<Key, std::optional<Prepared> > cache;
  const Key key{static_cast<std::size_t>(kind),
                static_cast<std::size_t>(num_threads()),
                g.n,
                g.c,
                g.f,
                g.groups,
                g.rows.in,
                g.rows.kernel,
                g.rows.stride,
                g.rows.pad,
                g.rows.dilation,
                g.cols.in,
                g.cols.kernel,
                g.cols.stride,
                g.cols.pad,
                g.cols.dilation};
  if (const auto found = cache.find(key); found != cache.end()) return found->second;
  // Bounded: a program that sees ever new sizes rebuilds rather than grows.
  if (cache.size() >= 256) cache.clear();
  return cache.emplace(key, prepare(g, kind)).first->second;
}

// Runs the kernel on our tensors: `in` in the order of its inputs, the result into `out`. Every
// reordered copy and the scratch memory come from the engine's block cache.
bool run(const ConvGeometry& g, Kind kind, std::initializer_list<const float*> in, float* out) {
  if (!dnnl_convolutions_enabled() || g.n == 0) return false;
#ifdef AUTOGRAD_OPENMP
  // Inside the caller's own parallel region oneDNN's regions would run on one thread, while a
  // kernel built for more splits its work for them: it must not run there.
  if (omp_in_parallel()) return false;
#endif
  const ThreadCount threads;
  const std::optional<Prepared>& p = kernel_for(g, kind);
  if (!p) return false;
  std::vector<Tensor<float> > buffers;
  buffers.reserve(in.size() + 2);
  const auto buffer = [&](const memory::desc& desc) {
    buffers.push_back(uninitialized<float>({desc.get_size() / sizeof(float) + 1}));
    return buffers.back().data();
  };
  dnnl::stream stream(cpu());
  std::unordered_map<int, memory> args;
  const float* const* pointer = in.begin();
  for (const Operand& o : p->inputs) {
    memory plain(o.plain, cpu(), const_cast<float*>(*pointer++));
    if (!o.convert) {
      args.emplace(o.id, plain);
      continue;
    }
    memory chosen(o.chosen, cpu(), buffer(o.chosen));
    o.convert->execute(stream, plain, chosen);
    args.emplace(o.id, chosen);
  }
  memory result(p->output.plain, cpu(), out);
  memory written = p->output.convert ? memory(p->output.chosen, cpu(), buffer(p->output.chosen)) : result;
  args.emplace(p->output.id, written);
  if (p->scratchpad.get_size() != 0) {
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(p->scratchpad, cpu(), buffer(p->scratchpad)));
  }
  p->kernel.execute(stream, args);
  if (p->output.convert) p->output.convert->execute(stream, written, result);
  stream.wait();
  runs.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace

bool dnnl_conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  return bias ? run(g, Kind::forward_with_bias, {x, w, bias}, y) : run(g, Kind::forward, {x, w}, y);
}
bool dnnl_conv_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  return run(g, Kind::backward_data, {dy, w}, dx);
}
bool dnnl_conv_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  return run(g, Kind::backward_weights, {x, dy}, dw);
}

#endif

}  // namespace ag::detail
