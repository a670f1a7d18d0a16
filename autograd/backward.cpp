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

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <functional>
#include <memory>
#include <thread>

#include "autograd/grad_mode.hpp"
#include "autograd/instantiate.hpp"
#include "autograd/ops.hpp"
#include "autograd/tape.hpp"

namespace ag {

namespace {

// Node -> its slot in this pass: open addressing with linear probing, at most half full. Cells
// carry the number of the pass that filled them, so a table is emptied for the next pass by
// counting one up, not by clearing it.
class SlotTable {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  void start_pass() {
    count_ = 0;
    if (++pass_ == 0 || cells_.size() > kKeptCells) {  // a wrapped counter, or a giant graph's table: start afresh
      cells_.assign(kInitialCells, Cell{});
      pass_ = 1;
    }
  }

  // The slot of `key`, or `fresh` (stored) when the key is new.
  std::pair<std::uint32_t, bool> insert(const void* key, std::uint32_t fresh) {
    if (2 * (count_ + 1) > cells_.size()) grow();
    std::size_t i = home(key);
    while (cells_[i].pass == pass_) {
      if (cells_[i].key == key) return {cells_[i].slot, false};
      i = (i + 1) & (cells_.size() - 1);
    }
    cells_[i] = {key, fresh, pass_};
    ++count_;
    return {fresh, true};
  }

 private:
  static constexpr std::size_t kInitialCells = 64, kKeptCells = std::size_t{1} << 16;

  struct Cell {
    const void* key = nullptr;
    std::uint32_t slot = kNone;
    std::uint32_t pass = 0;
  };

  std::size_t home(const void* key) const {
    // Fibonacci hashing of the address; nodes are 64-byte aligned, so the low bits say nothing.
    const auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> (64 - std::countr_zero(cells_.size())));
  }

  void grow() {
    std::vector<Cell> old = std::move(cells_);
    cells_.assign(std::max<std::size_t>(kInitialCells, 2 * old.size()), Cell{});
    count_ = 0;
    for (const Cell& c : old) {
      if (c.pass == pass_) insert(c.key, c.slot);
    }
  }

  std::vector<Cell> cells_ = std::vector<Cell>(kInitialCells);
  std::size_t count_ = 0;
  std::uint32_t pass_ = 0;
};

// What one pass knows of a node: the variable through which it was reached (a consumer's input, or
// the root itself; those stay put until the pass ends, so the replay needs no reference counting),
// where its inputs' slots are listed, and the gradient it has received so far.
template <class T>
struct Slot {
  const Variable<T>* variable;
  std::uint32_t first_input = 0;  // into Pass::input_slots, one entry per input of the node
  Variable<T> pending;
};

// A pass's bookkeeping. Its storage is kept for the thread's next pass (a training loop runs one
// backward per step), in a stack so that a backward started inside another (by a rule) gets its own.
template <class T>
struct Pass {
  SlotTable table;
  std::vector<Slot<T>> slots;
  std::vector<std::uint32_t> input_slots;  // SlotTable::kNone for an input that needs no gradient
  std::vector<std::uint32_t> order;        // slots, newest tape position first
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_position;  // scratch of the sort

  static Pass& acquire() {
    if (depth_ == passes_.size()) passes_.push_back(std::make_unique<Pass>());
    Pass& p = *passes_[depth_++];
    p.table.start_pass();
    return p;
  }
  void release() {
    slots.clear();  // drops what a throwing pass left pending
    input_slots.clear();
    order.clear();
    by_position.clear();
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

// Gathers every variable that `root` depends on through variables that require grad, and the
// graph's edges as slot numbers.
template <class T>
void gather(const Variable<T>& root, Pass<T>& pass) {
  pass.table.insert(root.node().get(), 0);
  pass.slots.push_back({&root, 0, {}});
  for (std::uint32_t next = 0; next < pass.slots.size(); ++next) {
    pass.slots[next].first_input = static_cast<std::uint32_t>(pass.input_slots.size());
    for (const Variable<T>& input : pass.slots[next].variable->node()->inputs) {
      if (!input.requires_grad()) {
        pass.input_slots.push_back(SlotTable::kNone);
        continue;
      }
      const auto [slot, fresh] = pass.table.insert(input.node().get(), static_cast<std::uint32_t>(pass.slots.size()));
      if (fresh) pass.slots.push_back({&input, 0, {}});
      pass.input_slots.push_back(slot);
    }
  }
  // Ops sorted as (position, slot) pairs side by side, so comparisons chase no pointers; leaves
  // (position 0) go last in any order. A chain, whose breadth-first order already runs down the
  // tape, needs no sort at all.
  std::vector<std::pair<std::uint64_t, std::uint32_t>>& by_position = pass.by_position;
  pass.order.clear();
  for (std::uint32_t i = 0; i < pass.slots.size(); ++i) {
    const std::uint64_t position = pass.slots[i].variable->node()->tape_position;
    if (position != 0) by_position.emplace_back(position, i);
  }
  if (!std::is_sorted(by_position.begin(), by_position.end(), std::greater<>())) {
    std::sort(by_position.begin(), by_position.end(), std::greater<>());
  }
  for (const auto& [position, slot] : by_position) pass.order.push_back(slot);
  for (std::uint32_t i = 0; i < pass.slots.size(); ++i) {
    if (pass.slots[i].variable->node()->tape_position == 0) pass.order.push_back(i);
  }
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
void check_versions(const Node<T>& node) {
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
  Pass<T>& pass = Pass<T>::acquire();
  struct Release {
    Pass<T>& pass;
    ~Release() { pass.release(); }
  } release_on_exit{pass};
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
      // The gather decided which inputs take part (a flag flipped since must not change that).
      const std::uint32_t input_slot = pass.input_slots[pass.slots[slot].first_input + i];
      if (input_slot == SlotTable::kNone || !input_grads[i].defined()) continue;
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
      accumulate(pass.slots[input_slot].pending, std::move(gi));
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
