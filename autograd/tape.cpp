#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "autograd/grad_mode.hpp"
#include "autograd/instantiate.hpp"

namespace ag {

namespace {
std::atomic<std::uint64_t> tape_end{0};
}

std::uint64_t next_tape_position() { return tape_end.fetch_add(1, std::memory_order_relaxed) + 1; }

template <class T>
void check_finite(const char* op, const char* pass, const Tensor<T>& value) {
  const auto bad = std::find_if(value.begin(), value.end(), [](T v) { return !std::isfinite(v); });
  if (bad != value.end()) {
    throw AnomalyError(fmt::format("anomaly: '{}' produced {} in its {} (element {} of shape {})", op,
                                   std::isnan(*bad) ? "NaN" : "Inf", pass, bad - value.begin(),
                                   shape_str(to_shape(value.shape()))));
  }
}

template <class T>
void attach(Variable<T>& result, const char* op, VariableList<T> inputs, GradRule<T> rule, std::uint32_t read) {
  Node<T>& node = *result.node();
  node.requires_grad = true;
  node.reads = read;
  const auto version_of = [](const Variable<T>& v) { return v.defined() ? v.version() : 0u; };
  const std::size_t early = std::min<std::size_t>(inputs.size(), node.input_versions.size());
  for (std::size_t i = 0; i < early; ++i) {
    if (read & reads::input(static_cast<unsigned>(i))) node.input_versions[i] = version_of(inputs[i]);
  }
  if ((read & reads::later_inputs) && inputs.size() > early) {
    node.later_input_versions = std::make_unique<std::uint32_t[]>(inputs.size() - early);
    for (std::size_t i = early; i < inputs.size(); ++i) node.later_input_versions[i - early] = version_of(inputs[i]);
  }
  node.op = op;
  node.inputs = std::move(inputs);
  node.rule = std::move(rule);
  node.tape_position = next_tape_position();
}

#define AG_TAPE(T)                                                        \
  template void check_finite(const char*, const char*, const Tensor<T>&); \
  template void attach(Variable<T>&, const char*, VariableList<T>, GradRule<T>, std::uint32_t);
AG_INSTANTIATE(AG_TAPE)

}  // namespace ag
