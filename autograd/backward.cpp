// The backward replay.
//
//   1. Gather every node the output was computed from (an explicit stack, not recursion).
//   2. Order them by tape position, newest first: each node then comes after all its consumers,
//      so its gradient is complete when its turn comes.
//   3. Seed the output and walk the list once. A recorded op's rule turns its output gradient
//      into input gradients, which the engine sums back to each input's shape and adds to what
//      that input has received so far. A leaf adds what it received to its `.grad()`.
#include "autograd/backward.hpp"

#include "autograd/grad_mode.hpp"
#include "autograd/ops.hpp"
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

namespace ag {

namespace {

std::atomic<std::uint64_t> passes{0};

// Every variable that `root` depends on through variables that require grad, newest first. Each
// entry points at the variable through which its node was reached (a consumer's input, or the
// root itself): those stay put until the pass ends, so the replay needs no reference counting.
template <class T>
std::vector<const Variable<T>*> nodes_in_reverse_tape_order(const Variable<T>& root, std::uint64_t pass) {
  std::vector<const Variable<T>*> found, stack{&root};
  root.node()->pass = pass;
  while (!stack.empty()) {
    const Variable<T>* v = stack.back();
    stack.pop_back();
    for (const Variable<T>& input : v->node()->inputs) {
      Node<T>& in = *input.node();
      if (in.requires_grad && in.pass != pass) {
        in.pass = pass;
        stack.push_back(&input);
      }
    }
    found.push_back(v);
  }
  std::sort(found.begin(), found.end(), [](const Variable<T>* a, const Variable<T>* b) {
    return a->node()->tape_position > b->node()->tape_position;
  });
  return found;
}

// sum += term. Without a graph to record, and when nobody else holds the running sum, the sum is
// updated in place instead of allocating a new one for every contribution.
template <class T>
void accumulate(Variable<T>& sum, Variable<T> term) {
  if (!sum.defined()) {
    sum = std::move(term);
  } else if (!grad_enabled() && sum.node().use_count() == 1 && shapes_equal(sum.value(), term.value())) {
    sum.value() += term.value();
  } else {
    sum = add(sum, term);
  }
}

template <class T>
Variable<T> seed_for(const Variable<T>& output, const Variable<T>& seed, const char* caller) {
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
  const std::uint64_t pass = passes.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::vector<const Variable<T>*> order = nodes_in_reverse_tape_order(output, pass);
  std::vector<Variable<T>> results(targets ? targets->size() : 0);
  {
    // A rule that throws (anomaly mode, a freed node) must not leave gradients behind for the next pass.
    struct ClearPending {
      const std::vector<const Variable<T>*>& variables;
      ~ClearPending() {
        for (const Variable<T>* v : variables) v->node()->pending_grad = Variable<T>();
      }
    } clear_on_exit{order};

    output.node()->pending_grad = std::move(seed);
    for (const Variable<T>* v : order) {
      Node<T>& node = *v->node();
      const Variable<T> g = std::move(node.pending_grad);
      node.pending_grad = Variable<T>();
      if (!g.defined()) continue;  // every path from here to the output had a zero gradient

      if (targets) {
        for (std::size_t i = 0; i < targets->size(); ++i) {
          if ((*targets)[i].is(*v)) accumulate(results[i], g);
        }
      }
      if (!targets && (node.op == nullptr || node.retains_grad)) accumulate(node.grad, g);
      if (node.op == nullptr) continue;
      if (node.released) {
        throw BackwardError(fmt::format(
            "backward: '{}' (tape position {}) was already freed by an earlier backward; pass "
            "retain_graph = true to the first backward to go through the graph twice",
            node.op, node.tape_position));
      }

      VariableList<T> input_grads;
      {
        // The rule's own ops are checked as part of this node's backward (below), not as forwards.
        AnomalyModeGuard rule_ops_unchecked(false);
        input_grads = node.rule(BackwardContext<T>{node.inputs, *v, g});
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
        accumulate(input.node()->pending_grad, std::move(gi));
      }
    }
  }
  if (!options.retain_graph && !options.create_graph) {
    // Oldest first: dropping a node's inputs can free older nodes, never one still to be visited.
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      Node<T>& node = *(*it)->node();
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
