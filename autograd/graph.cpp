#include "autograd/graph.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "autograd/detail/walk.hpp"
#include "autograd/instantiate.hpp"

namespace ag {

namespace {

// Every node reachable from `output` through its defined inputs, leaves first, then ops in tape
// order (the walk's order, reversed).
template <class T>
std::vector<const detail::Node<T>*> nodes_of(const Variable<T>& output) {
  if (!output.defined()) throw_undefined("graph");
  detail::Walk<T> walk;
  walk.gather(output, [](const Variable<T>& input) { return input.defined(); });
  std::vector<const detail::Node<T>*> found;
  for (auto it = walk.newest_first().rbegin(); it != walk.newest_first().rend(); ++it) found.push_back(&walk.node(*it));
  return found;
}

template <class T>
std::string values(const Tensor<T>& t, std::size_t max_values) {
  if (t.size() > max_values) return "...";
  std::string out;
  for (const T& v : t) out += fmt::format("{}{:.6g}", out.empty() ? "" : ", ", v);
  return out;
}

}  // namespace

template <class T>
std::string to_dot(const Variable<T>& output, std::size_t max_values) {
  const auto nodes = nodes_of(output);
  std::map<const detail::Node<T>*, std::size_t> id;
  for (const detail::Node<T>* n : nodes) id.emplace(n, id.size());
  std::string out = "digraph autograd {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";
  for (const detail::Node<T>* n : nodes) {
    const std::string shape = shape_str(to_shape(n->value.shape()));
    const std::string value = values(n->value, max_values);
    if (n->op) {
      out += fmt::format("  n{} [shape=ellipse, label=\"{}\\n{}\\n{}\"];\n", id[n], n->op, shape, value);
    } else {
      const std::string grad = n->grad.defined() ? "\\ngrad " + values(n->grad.value(), max_values) : "";
      out += fmt::format("  n{} [shape=box{}, label=\"leaf {}\\n{}{}\"];\n", id[n],
                         n->requires_grad ? ", style=filled, fillcolor=lightblue" : "", shape, value, grad);
    }
    for (const Variable<T>& in : n->inputs) out += fmt::format("  n{} -> n{};\n", id[detail::Access::node(in)], id[n]);
  }
  return out + "}\n";
}

template <class T>
std::string graph_table(const Variable<T>& output, std::size_t max_values) {
  const auto nodes = nodes_of(output);
  std::map<const detail::Node<T>*, std::size_t> id;
  for (const detail::Node<T>* n : nodes) id.emplace(n, id.size());
  std::string out =
      fmt::format("{:>4}  {:<14} {:<8} {:<8} {:<26} {}\n", "id", "op", "shape", "inputs", "value", "grad");
  for (const detail::Node<T>* n : nodes) {
    std::vector<std::size_t> ins;
    for (const Variable<T>& in : n->inputs) ins.push_back(id[detail::Access::node(in)]);
    const std::string op = n->op ? n->op : (n->requires_grad ? "leaf (grad)" : "leaf");
    const std::string grad = n->grad.defined() ? values(n->grad.value(), max_values) : "";
    out += fmt::format("{:>4}  {:<14} {:<8} {:<8} {:<26} {}\n", id[n], op, shape_str(to_shape(n->value.shape())),
                       fmt::format("{}", fmt::join(ins, ",")), values(n->value, max_values), grad);
  }
  return out;
}

#define AG_GRAPH(T)                                             \
  template std::string to_dot(const Variable<T>&, std::size_t); \
  template std::string graph_table(const Variable<T>&, std::size_t);
AG_INSTANTIATE(AG_GRAPH)

}  // namespace ag
