// Seeing the graph that produced a variable: as Graphviz DOT, or as a table.
#pragma once

#include <string>

#include "autograd/variable.hpp"

namespace ag {

// `dot -Tpng` renders it. Ops are ellipses labelled with their name and output shape, leaves
// are boxes (parameters, which require grad, filled); edges run from inputs to ops. Nodes with
// up to `max_values` elements also show their value (and gradient, for leaves).
template <class T>
std::string to_dot(const Variable<T>& output, std::size_t max_values = 4);

// One row per node in tape order, leaves first: position, op, shape, inputs, value and gradient.
template <class T>
std::string graph_table(const Variable<T>& output, std::size_t max_values = 4);

}  // namespace ag
