// The backward replay.
//
//   1. Gather every node the output was computed from (an explicit stack, not recursion).
//   2. Order them by tape position, newest first: each node then comes after all its consumers,
//      so its gradient is complete when its turn comes.
//   3. Seed the output and walk the list once. A recorded op's rule turns its output gradient
//      into input gradients, which the engine sums back to each input's shape and adds to what
//      that input has received so far. A leaf adds what it received to its `.grad()`.
//
// The bookkeeping of a pass (which nodes it found, the gradients pending at each) lives in the
// pass, not in the nodes: passes on several threads over graphs that share leaves never see each
// other's. Only a leaf's `.grad()` is shared, and adding to it takes a lock.
#include "autograd/backward.hpp"

#include "autograd/grad_mode.hpp"
#include "autograd/ops.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <mutex>

namespace ag {

namespace {

// Node -> its slot in this pass: open addressing with linear probing, sized to stay at most half full.
class SlotTable {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  // The slot of `key`, or `fresh` (stored) when the key is new.
  std::pair<std::uint32_t, bool> insert(const void* key, std::uint32_t fresh) {
    if (2 * (count_ + 1) > cells_.size()) grow();
    std::size_t i = home(key);
    while (cells_[i].key != nullptr) {
      if (cells_[i].key == key) return {cells_[i].slot, false};
      i = (i + 1) & (cells_.size() - 1);
    }
    cells_[i] = {key, fresh};
    ++count_;
    return {fresh, true};
  }

  std::uint32_t find(const void* key) const {
    for (std::size_t i = home(key);; i = (i + 1) & (cells_.size() - 1)) {
      if (cells_[i].key == key) return cells_[i].slot;
      if (cells_[i].key == nullptr) return kNone;
    }
  }

 private:
  struct Cell {
    const void* key = nullptr;
    std::uint32_t slot = kNone;
  };

  std::size_t home(const void* key) const {
    // Fibonacci hashing of the address; nodes are 64-byte aligned, so the low bits say nothing.
    const auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> (64 - std::countr_zero(cells_.size())));
  }

  void grow() {
    std::vector<Cell> old = std::move(cells_);
    cells_.assign(std::max<std::size_t>(64, 2 * old.size()), Cell{});
    count_ = 0;
    for (const Cell& c : old) {
      if (c.key != nullptr) insert(c.key, c.slot);
    }
  }

  std::vector<Cell> cells_;
  std::size_t count_ = 0;
};

// What one pass knows of a node: the variable through which it was reached (a consumer's input, or
// the root itself; those stay put until the pass ends, so the replay needs no reference counting)
// and the gradient it has received so far.
template <class T>
struct Slot {
  const Variable<T>* variable;
  Variable<T> pending;
};

template <class T>
struct Pass {
  SlotTable table;
  std::vector<Slot<T>> slots;
  std::vector<std::uint32_t> order;  // slots, newest tape position first
};

// Gathers every variable that `root` depends on through variables that require grad.
template <class T>
void gather(const Variable<T>& root, Pass<T>& pass) {
  pass.table.insert(root.node().get(), 0);
  pass.slots.push_back({&root, {}});
  for (std::uint32_t next = 0; next < pass.slots.size(); ++next) {
    for (const Variable<T>& input : pass.slots[next].variable->node()->inputs) {
      if (!input.requires_grad()) continue;
      const auto fresh = static_cast<std::uint32_t>(pass.slots.size());
      if (pass.table.insert(input.node().get(), fresh).second) pass.slots.push_back({&input, {}});
    }
  }
  pass.order.resize(pass.slots.size());
  for (std::uint32_t i = 0; i < pass.order.size(); ++i) pass.order[i] = i;
  std::sort(pass.order.begin(), pass.order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return pass.slots[a].variable->node()->tape_position > pass.slots[b].variable->node()->tape_position;
  });
}

// sum += term. Without a graph to record, and when nobody else holds the running sum, the sum is
// updated in place instead of allocating a new one for every contribution.
template <class T>
void accumulate(Variable<T>& sum, Variable<T> term) {
  if (!sum.defined()) {
    sum = std::move(term);
  } else if (!grad_enabled() && sum.node().use_count() == 1 && shapes_equal(sum.value(), term.value())) {
    sum.mutable_value() += term.value();
  } else {
    sum = add(sum, term);
  }
}

// A leaf's .grad() may be shared by passes on several threads: additions to it are serialised by
// one of a few locks, chosen by the node's address.
std::mutex& grad_lock(const void* node) {
  static std::array<std::mutex, 64> locks;
  return locks[(reinterpret_cast<std::uintptr_t>(node) >> 6) % locks.size()];
}

template <class T>
std::string describe(const Variable<T>& v) {
  if (v.is_leaf()) return fmt::format("a leaf of shape {}", shape_str(v.shape()));
  return fmt::format("the output of '{}' (tape position {}) of shape {}", v.op_name(), v.node()->tape_position,
                     shape_str(v.shape()));
}

// The rule of `node` reads values that must be the ones it saw when the op ran.
template <class T>
void check_versions(const Node<T>& node) {
  const auto changed = [&node](const std::string& what, std::uint32_t now, std::uint32_t saw) {
    throw BackwardError(fmt::format(
        "backward: {} of '{}' (tape position {}) was changed in place after '{}' used it: it is at version {}, "
        "'{}' saw version {}, and its gradient would be wrong. Change values before computing with them, or "
        "change a detach()ed copy",
        what, node.op, node.tape_position, node.op, now, node.op, saw));
  };
  for (std::size_t i = 0; i < std::min(node.inputs.size(), node.input_versions.size()); ++i) {
    const Variable<T>& input = node.inputs[i];
    if ((node.reads & reads::input(static_cast<unsigned>(i))) && input.version() != node.input_versions[i]) {
      const std::string kind = input.is_leaf() ? "a leaf" : fmt::format("the output of '{}'", input.op_name());
      changed(fmt::format("input {} ({}, shape {})", i, kind, shape_str(input.shape())), input.version(),
              node.input_versions[i]);
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
    throw BackwardError(fmt::format(
        "{}: the output does not require grad: no input of it requires grad, or it was computed "
        "under NoGrad",
        caller));
  }
  if (!seed.defined()) {
    if (output.size() != 1) {
      throw BackwardError(fmt::format(
          "{}: the output has shape {}; a non-scalar output needs a seed gradient of that shape", caller,
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
  Pass<T> pass;
  gather(output, pass);
  std::vector<Variable<T>> results(targets ? targets->size() : 0);
  pass.slots[0].pending = std::move(seed);
  for (const std::uint32_t slot : pass.order) {
    const Variable<T>& v = *pass.slots[slot].variable;
    Node<T>& node = *v.node();
    const Variable<T> g = std::move(pass.slots[slot].pending);
    if (!g.defined()) continue;  // every path from here to the output had a zero gradient

    if (targets) {
      for (std::size_t i = 0; i < targets->size(); ++i) {
        if ((*targets)[i].is(v)) accumulate(results[i], g);
      }
    }
    if (!targets && (node.op == nullptr || node.retains_grad)) {
      const std::lock_guard<std::mutex> lock(grad_lock(&node));
      accumulate(node.grad, g);
    }
    if (node.op == nullptr) continue;
    if (node.released) {
      throw BackwardError(fmt::format(
          "backward: '{}' (tape position {}) was already freed by an earlier backward; pass "
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
      if (!input.requires_grad() || !input_grads[i].defined()) continue;
      Variable<T> gi = std::move(input_grads[i]);
      if (!shapes_equal(gi.value(), input.value())) {
        if (!sums_to(gi.shape(), input.shape())) {
          throw ShapeError(fmt::format("backward: the rule of '{}' returned a gradient of shape {} for input {} of shape {}",
                                       node.op, shape_str(gi.shape()), i, shape_str(input.shape())));
        }
        gi = sum_to(gi, input.shape());
      }
      if (anomaly_mode()) check_finite(node.op, "backward", gi.value());
      accumulate(pass.slots[pass.table.find(input.node().get())].pending, std::move(gi));
    }
  }
  if (!options.retain_graph && !options.create_graph) {
    // Oldest first: dropping a node's inputs can free older nodes, never one still to be visited.
    for (auto it = pass.order.rbegin(); it != pass.order.rend(); ++it) {
      Node<T>& node = *pass.slots[*it].variable->node();
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

template void backward(const Variable<float>&, const Variable<float>&, BackwardOptions);
template void backward(const Variable<double>&, const Variable<double>&, BackwardOptions);
template std::vector<Variable<float>> grad(const Variable<float>&, const std::vector<Variable<float>>&,
                                           const Variable<float>&, BackwardOptions);
template std::vector<Variable<double>> grad(const Variable<double>&, const std::vector<Variable<double>>&,
                                            const Variable<double>&, BackwardOptions);

}  // namespace ag
