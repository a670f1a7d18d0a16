// Variables and nodes: what the engine records, and how the pieces fit.
//
// A Variable is a handle (a shared pointer) to a node, the engine's own record (detail::Node,
// below: users go through Variable, never to the node). A node holds
//   - its value, an evaluated tensor;
//   - for a leaf that requires grad, the gradient that `backward` accumulates into it;
//   - for the result of a recorded op: the op's name, its input variables, its gradient rule,
//     and its position on the tape.
//
// The tape. Every op that runs while grad mode is on and with an input that requires grad is
// recorded as it runs: its node takes the next position from one counter that only grows (shared
// by all threads). The tape is these positions, not a list: nothing holds the nodes in order, and
// each graph is owned by its variables alone (unlike Stan Math's tape, a stack of every node in
// an arena). An op's inputs exist before the op does, so an op's position is later than its
// inputs', and position order is a topological order of the graph. `backward(y)` walks the graph
// from y once to find y's ancestors (detail/walk.hpp), puts them in reverse recording order (a
// sort of the positions; none for a chain), then replays them in a plain loop, each node's
// gradient rule turning the gradient of its output into gradients of its inputs: no recursion,
// so a chain of a million ops is no harder than a chain of ten (backward.cpp).
//
// Who owns what. A node owns its inputs, never its consumers, so the graph has no cycles and a
// step's graph is freed when the last variable referring to it goes away: a training loop that
// rebinds `loss` each step keeps flat memory. Rules that need the op's own output get it as a
// variable rebuilt from the node during the replay, never stored in the node (that would be a
// cycle: pytorch #25340). Without retain_graph, `backward` releases each node's inputs and rule
// as soon as it has replayed it; a second backward through it is an error that says so.
//
// Gradient rules are written with the engine's own ops. Under create_graph they are recorded
// like any other computation, so a gradient can be differentiated again (Hessian-vector
// products, gradient penalties); otherwise they run with grad mode off and record nothing.
//
// Broadcasting is undone in one place: a rule returns the gradient with the shape of the op's
// output, and the engine sums it back to each input's shape (sum_to) and checks the result.
//
// Changes in place are detected, as in PyTorch: every node has a version, which each access to
// its value for a change (`mutable_value()`) bumps. A recorded op remembers the versions of
// the values its rule will read (tape.hpp, `reads::`), and backward refuses to run a rule whose
// values have changed since, naming the op and the variable, instead of returning a wrong
// gradient. An optimizer's update of a parameter whose graph is gone costs nothing.
//
// Threads. The thread-safety contract:
//   - grad mode, anomaly mode, the block cache and the live-node count are per thread;
//     tape positions come from one atomic counter;
//   - any number of threads may build graphs and run backward at the same time, also when the
//     graphs share leaves (parameters shared by a thread pool evaluating a batch): each backward
//     keeps its bookkeeping to itself, and accumulation into a shared leaf's .grad() is done under
//     a lock, so the result is the sum of what each pass contributed (in whatever order they ran);
//   - what is not synchronised is the data itself: reading a .grad() or changing a value while
//     another thread's backward or op uses it is a data race, as it is for any C++ container.
//     Two threads running backward through the same recorded nodes must pass retain_graph;
//   - a parameter changed (mutable_value) between another thread's forward and its backward is a
//     stale read, and that backward fails like any change in place: Hogwild-style training, which
//     updates while others compute, is refused rather than silently approximated.
//
// A change in place is meant to change values. A tensor of another shape assigned through
// mutable_value() to a variable that a graph has used is detected only by the ops that read it
// (mul, matmul, ...): the routing ops (add, reshape, ...) keep no copy of their inputs' shapes.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag {

namespace detail {
template <class T>
struct Node;
struct Access;
}  // namespace detail

// Thrown when a variable is used for what it does not have: the value of an undefined variable
// (default-constructed, or the grad() of a variable that no backward has reached).
class UndefinedVariableError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void throw_undefined(const char* what);

template <class T>
class Variable;

// A node's inputs, and a rule's gradients: short lists, made for every op, so their storage comes
// from the block cache too.
template <class T>
using VariableList = std::vector<Variable<T>, CachingAllocator<Variable<T>>>;

// What a gradient rule is given: the op's inputs, its output and the gradient of the output.
template <class T>
struct BackwardContext {
  const VariableList<T>& in;
  const Variable<T>& out;
  const Variable<T>& grad;
  // Whether input i wants a gradient; rules skip work (and ops undefined there, such as the log
  // of a negative base in pow) for inputs that do not.
  bool needs(std::size_t i) const;
};

// A rule returns one gradient per input, each with the shape of the op's output or of the input;
// an undefined Variable stands for a zero gradient.
template <class T>
using GradRule = std::function<VariableList<T>(const BackwardContext<T>&)>;

template <class T>
class Variable {
 public:
  using value_type = T;

  // An undefined variable: no value. Used for "no gradient yet".
  Variable() = default;
  explicit Variable(Tensor<T> value, bool requires_grad = false);

  bool defined() const { return node_ != nullptr; }

  const Tensor<T>& value() const { return checked("value").value; }
  // The value, to change in place: an optimizer's update of a parameter under NoGrad, say. This
  // bumps the variable's version, so a backward through an op that read the old value fails
  // instead of returning a wrong gradient (reading goes through value(), which never does). The
  // bump happens at the call: write through the reference right away, never keep it for later.
  Tensor<T>& mutable_value() {
    detail::Node<T>& n = checked("mutable_value");
    n.version.fetch_add(1, std::memory_order_relaxed);
    return n.value;
  }
  // How many times the value has been accessed for a change (mutable_value()).
  std::uint32_t version() const { return checked("version").version.load(std::memory_order_relaxed); }
  Shape shape() const { return to_shape(checked("shape").value.shape()); }
  std::size_t ndim() const { return checked("ndim").value.dimension(); }
  std::size_t size() const { return checked("size").value.size(); }
  // The single element of a one-element variable; throws otherwise.
  T item() const;

  bool requires_grad() const;
  // Marks a leaf as a parameter (or not). Throws on the result of a recorded op.
  Variable& set_requires_grad(bool requires_grad = true);
  // A leaf is a variable not produced by a recorded op: a parameter, an input or a constant.
  bool is_leaf() const;
  // The recorded op's name, or "leaf".
  const char* op_name() const;
  const VariableList<T>& inputs() const;

  // The gradient accumulated by backward; undefined until the first backward reaches this leaf
  // (or this intermediate variable, after retain_grad()).
  const Variable& grad() const;
  // Asks backward to keep this intermediate variable's gradient in grad() too, as it does for
  // leaves: to look at a hidden layer's Delta, say.
  Variable& retain_grad();
  void zero_grad();

  // Same value, cut from the graph: gradients do not flow through the result.
  Variable detach() const;

  // Identity, not value: whether both handles refer to the same node.
  bool is(const Variable& other) const { return node_ == other.node_; }

 private:
  friend struct detail::Access;

  detail::Node<T>& checked(const char* what) const {
    if (!node_) [[unlikely]]
      throw_undefined(what);
    return *node_;
  }

  std::shared_ptr<detail::Node<T>> node_;
};

namespace detail {

// The engine's record of a variable. Only the engine's own files (variable.cpp, tape.cpp,
// backward.cpp, graph.cpp) touch it, through Access.
template <class T>
struct Node {
  Tensor<T> value;
  bool requires_grad = false;
  Variable<T> grad;  // what backward accumulated: leaves, and other nodes that retain it
  bool retains_grad = false;

  // Set for the result of a recorded op; empty for a leaf.
  const char* op = nullptr;
  VariableList<T> inputs;
  GradRule<T> rule;
  std::uint64_t tape_position = 0;  // 0 for leaves, which come after every op in the replay
  bool released = false;            // inputs and rule dropped by a backward without retain_graph

  // Bumped by every mutable access to the value (atomic: a parameter shared across threads).
  std::atomic<std::uint32_t> version{0};
  // What the rule reads (tape.hpp's Reads), and the versions its inputs had when the op ran.
  std::uint32_t reads = 0;
  std::array<std::uint32_t, 3> input_versions{};
  std::unique_ptr<std::uint32_t[]> later_input_versions;  // inputs 3, 4, ...: custom ops of many inputs

  explicit Node(Tensor<T>&& v);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

// How the engine's files reach a variable's node; no part of the public API.
struct Access {
  template <class T>
  static Node<T>* node(const Variable<T>& v) {
    return v.node_.get();
  }
  // How many variables share the node.
  template <class T>
  static long use_count(const Variable<T>& v) {
    return v.node_.use_count();
  }
};

}  // namespace detail

// Nodes created minus nodes destroyed on this thread, of every scalar type: a handle for tests
// that check that a loop's graphs are freed.
long live_nodes();

template <class T>
bool BackwardContext<T>::needs(std::size_t i) const {
  return in[i].requires_grad();
}

// A variable's value as a tensor of the engine's scalar type, for the common 0-d case.
template <class T>
Variable<T> constant(T value) {
  return Variable<T>(Tensor<T>(value));
}

}  // namespace ag
