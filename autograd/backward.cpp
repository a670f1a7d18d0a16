// The backward replay.
//
//   1. Walk the graph once from the output (detail/walk.hpp, a loop, not recursion): the nodes it
//      was computed from through inputs that require grad.
//   2. Order them by tape position, newest first: each node then comes after all its consumers,
//      so its gradient is complete when its turn comes.
//   3. Seed the output and go down the list once. A recorded op's rule turns its output gradient
//      into input gradients, which the engine sums back to each input's shape and adds to what
//      that input has received so far. A leaf adds what it received to its `.grad()`.
//
// The bookkeeping of a pass (which nodes it found, the gradients pending at each) lives in the
// pass, not in the nodes: passes on several threads over graphs that share leaves never see each
// other's. Only a leaf's `.grad()` is shared, and adding to it takes a lock.
#include "autograd/backward.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <functional>
#include <memory>
#include <thread>

#include "autograd/detail/walk.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/instantiate.hpp"
#include "autograd/ops.hpp"
#include "autograd/tape.hpp"

namespace ag {

namespace {

// A pass's bookkeeping: the walk of the graph (its nodes, numbered, and their order) and the
// gradient pending at each node. Its storage is kept for the thread's next pass (a training loop
// runs one backward per step), in a stack so that a backward started inside another (by a rule)
// gets its own.
template <class T>
struct Pass {
  detail::Walk<T> walk;
  std::vector<Variable<T>> pending;  // by node number

  static Pass& acquire() {
    if (depth_ == passes_.size()) passes_.push_back(std::make_unique<Pass>());
    return *passes_[depth_++];
  }
  void release() {
    pending.clear();  // drops what a throwing pass left pending
    walk.clear();
    --depth_;
  }

 private:
  static thread_local std::vector<std::unique_ptr<Pass>> passes_;
  static thread_local std::size_t depth_;
};

template <class T>
thread_local std::vector<std::unique_ptr<Pass<T>>> Pass<T>::passes_;
template <class T>
thread_local std::size_t Pass<T>::depth_ = 0;

// sum += term. Without a graph to record, and when nobody else holds the running sum, the sum is
// updated in place instead of allocating a new one for every contribution.
template <class T>
void accumulate(Variable<T>& sum, Variable<T> term) {
  if (!sum.defined()) {
    sum = std::move(term);
  } else if (!grad_enabled() && detail::Access::use_count(sum) == 1 && shapes_equal(sum.value(), term.value())) {
    sum.mutable_value() += term.value();
  } else {
    sum = add(sum, term);
  }
}

// A leaf's .grad() may be shared by passes on several threads: additions to it are serialised by
// one of a few spin locks, chosen by the node's address. Uncontended, a lock is one atomic
// exchange: a training step adds into a few dozen leaves, and a mutex would show in small steps.
class GradLock {
 public:
  explicit GradLock(const void* node) : flag_(flags[(reinterpret_cast<std::uintptr_t>(node) >> 6) % flags.size()]) {
    while (flag_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  }
  ~GradLock() { flag_.clear(std::memory_order_release); }
  GradLock(const GradLock&) = delete;
  GradLock& operator=(const GradLock&) = delete;

 private:
  static inline std::array<std::atomic_flag, 64> flags{};
  std::atomic_flag& flag_;
};

// The rule of `node` reads values that must be the ones it saw when the op ran.
template <class T>
void check_versions(const detail::Node<T>& node) {
  const auto changed = [&node](const std::string& what, std::uint32_t now, std::uint32_t saw) {
    throw BackwardError(fmt::format(
        "backward: {} of '{}' (tape position {}) was changed in place after '{}' used it: it is at version {}, "
        "'{}' saw version {}, and its gradient would be wrong. Change values before computing with them, or "
        "change a detach()ed copy",
        what, node.op, node.tape_position, node.op, now, node.op, saw));
  };
  const std::size_t early = node.input_versions.size();
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Variable<T>& input = node.inputs[i];
    if (!input.defined() || !(node.reads & reads::input(static_cast<unsigned>(i)))) continue;
    const std::uint32_t saw = i < early ? node.input_versions[i] : node.later_input_versions[i - early];
    if (input.version() != saw) {
      const std::string kind = input.is_leaf() ? "a leaf" : fmt::format("the output of '{}'", input.op_name());
      changed(fmt::format("input {} ({}, shape {})", i, kind, shape_str(input.shape())), input.version(), saw);
    }
  }
  // An op's output is a fresh node at version 0.
  const std::uint32_t now = node.version.load(std::memory_order_relaxed);
  if ((node.reads & reads::output) && now != 0) {
    changed(fmt::format("the output (shape {})", shape_str(to_shape(node.value.shape()))), now, 0);
  }
}

template <class T>
Variable<T> seed_for(const Variable<T>& output, const Variable<T>& seed, const char* caller) {
  if (!output.defined()) throw_undefined(caller);
  if (!output.requires_grad()) {
    throw BackwardError(
        fmt::format("{}: the output does not require grad: no input of it requires grad, or it was computed "
                    "under NoGrad",
                    caller));
  }
  if (!seed.defined()) {
    if (output.size() != 1) {
      throw BackwardError(
          fmt::format("{}: the output has shape {}; a non-scalar output needs a seed gradient of that shape", caller,
                      shape_str(output.shape())));
    }
    return Variable<T>(full<T>(output.shape(), T(1)));
  }
  if (seed.shape() != output.shape()) {
    throw ShapeError(fmt::format("{}: the seed gradient has shape {} but the output has shape {}", caller,
                                 shape_str(seed.shape()), shape_str(output.shape())));
  }
  return seed;
}

// Replays the tape from `output`. With `targets`, the gradients reaching those nodes are
// returned and no `.grad()` is touched; without, leaves accumulate into `.grad()`.
template <class T>
std::vector<Variable<T>> replay(const Variable<T>& output, Variable<T> seed, BackwardOptions options,
                                const std::vector<Variable<T>>* targets) {
  GradModeGuard record_gradients(options.create_graph);
  Pass<T>& pass = Pass<T>::acquire();
  struct Release {
    Pass<T>& pass;
    ~Release() { pass.release(); }
  } release_on_exit{pass};
  // Only inputs that require grad take part; the walk decides once (a flag flipped since must not).
  const detail::Walk<T>& walk = pass.walk;
  pass.walk.gather(output, [](const Variable<T>& input) { return input.requires_grad(); });
  pass.pending.resize(walk.size());
  std::vector<Variable<T>> results(targets ? targets->size() : 0);
  pass.pending[0] = std::move(seed);
  for (const std::uint32_t slot : walk.newest_first()) {
    const Variable<T>& v = walk.variable(slot);
    detail::Node<T>& node = walk.node(slot);
    const Variable<T> g = std::move(pass.pending[slot]);
    if (!g.defined()) continue;  // every path from here to the output had a zero gradient

    if (targets) {
      for (std::size_t i = 0; i < targets->size(); ++i) {
        if ((*targets)[i].is(v)) accumulate(results[i], g);
      }
    }
    if (!targets && (node.op == nullptr || node.retains_grad)) {
      const GradLock lock(&node);
      accumulate(node.grad, g);
    }
    if (node.op == nullptr) continue;
    if (node.released) {
      throw BackwardError(
          fmt::format("backward: '{}' (tape position {}) was already freed by an earlier backward; pass "
                      "retain_graph = true to the first backward to go through the graph twice",
                      node.op, node.tape_position));
    }
    check_versions(node);

    VariableList<T> input_grads;
    {
      // The rule's own ops are checked as part of this node's backward (below), not as forwards.
      AnomalyModeGuard rule_ops_unchecked(false);
      input_grads = node.rule(BackwardContext<T>{node.inputs, v, g});
    }
    for (std::size_t i = 0; i < node.inputs.size() && i < input_grads.size(); ++i) {
      const Variable<T>& input = node.inputs[i];
      const std::uint32_t input_slot = walk.input(slot, i);
      if (input_slot == detail::Walk<T>::kNone || !input_grads[i].defined()) continue;
      Variable<T> gi = std::move(input_grads[i]);
      if (!shapes_equal(gi.value(), input.value())) {
        if (!sums_to(gi.shape(), input.shape())) {
          throw ShapeError(
              fmt::format("backward: the rule of '{}' returned a gradient of shape {} for input {} of shape {}",
                          node.op, shape_str(gi.shape()), i, shape_str(input.shape())));
        }
        gi = sum_to(gi, input.shape());
      }
      if (anomaly_mode()) check_finite(node.op, "backward", gi.value());
      accumulate(pass.pending[input_slot], std::move(gi));
    }
  }
  if (!options.retain_graph && !options.create_graph) {
    // Oldest first: dropping a node's inputs can free older nodes, never one still to be visited.
    for (auto it = walk.newest_first().rbegin(); it != walk.newest_first().rend(); ++it) {
      detail::Node<T>& node = walk.node(*it);
      if (node.op == nullptr) continue;
      node.released = true;
      node.rule = nullptr;
      node.inputs.clear();
    }
  }
  return results;
}

}  // namespace

template <class T>
void backward(const Variable<T>& output, const Variable<T>& seed, BackwardOptions options) {
  replay<T>(output, seed_for(output, seed, "backward"), options, nullptr);
}

template <class T>
std::vector<Variable<T>> grad(const Variable<T>& output, const std::vector<Variable<T>>& inputs,
                              const Variable<T>& seed, BackwardOptions options) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw_undefined("grad");
    if (!inputs[i].requires_grad()) {
      throw BackwardError(fmt::format("grad: input {} does not require grad", i));
    }
  }
  std::vector<Variable<T>> results = replay(output, seed_for(output, seed, "grad"), options, &inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!results[i].defined()) results[i] = Variable<T>(full<T>(inputs[i].shape(), T(0)));
  }
  return results;
}

#define AG_BACKWARD(T)                                                                                            \
  template void backward(const Variable<T>&, const Variable<T>&, BackwardOptions);                                \
  template std::vector<Variable<T>> grad(const Variable<T>&, const std::vector<Variable<T>>&, const Variable<T>&, \
                                         BackwardOptions);
AG_INSTANTIATE(AG_BACKWARD)

}  // namespace ag
