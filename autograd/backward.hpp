// Asking for gradients: two ways, as in PyTorch.
//
//   backward(loss)            fills `.grad()` of every leaf that requires grad (training);
//   grad(y, {x, w})           returns dy/dx and dy/dw as variables and touches no `.grad()`
//                             (tests, tutorials, higher-order use).
//
// Both replay the tape in reverse from the output (see variable.hpp).
#pragma once

#include <optional>
#include <stdexcept>
#include <vector>

#include "autograd/variable.hpp"

namespace ag {

struct BackwardOptions {
  // Keep the graph's nodes after the pass, so that another backward can go through them.
  bool retain_graph = false;
  // Record the gradient computation itself, so that gradients can be differentiated again.
  // Implies retain_graph.
  bool create_graph = false;
};

// Thrown for a backward that cannot run: a non-scalar output without a seed, an output that
// does not require grad, a graph already freed by an earlier backward.
class BackwardError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Accumulates d(output)/d(leaf) into every leaf's `.grad()`. `seed` is d(loss)/d(output); it may
// be left out only for a single-element output, where it is 1.
template <class T>
void backward(const Variable<T>& output, const Variable<T>& seed = {}, BackwardOptions options = {});

template <class T>
void backward(const Variable<T>& output, BackwardOptions options) {
  backward(output, Variable<T>(), options);
}

// d(output)/d(input) for each input (leaves or intermediate variables), as variables of the
// inputs' shapes. An input the output does not depend on gets zeros. Under create_graph the
// results are part of the graph and can be differentiated again.
template <class T>
std::vector<Variable<T>> grad(const Variable<T>& output, const std::vector<Variable<T>>& inputs,
                              const Variable<T>& seed = {}, BackwardOptions options = {});

}  // namespace ag
