#include "autograd/tape.hpp"

#include "autograd/grad_mode.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>

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
Variable<T> record(const char* op, Tensor<T> value, std::vector<Variable<T>> inputs, GradRule<T> rule) {
  if (anomaly_mode()) check_finite(op, "forward", value);
  Variable<T> result(std::move(value));
  const bool track = grad_enabled() && std::any_of(inputs.begin(), inputs.end(),
                                                   [](const Variable<T>& v) { return v.requires_grad(); });
  if (track) {
    Node<T>& node = *result.node();
    node.requires_grad = true;
    node.op = op;
    node.inputs = std::move(inputs);
    node.rule = std::move(rule);
    node.tape_position = next_tape_position();
  }
  return result;
}

template void check_finite(const char*, const char*, const Tensor<float>&);
template void check_finite(const char*, const char*, const Tensor<double>&);
template Variable<float> record(const char*, Tensor<float>, std::vector<Variable<float>>, GradRule<float>);
template Variable<double> record(const char*, Tensor<double>, std::vector<Variable<double>>, GradRule<double>);

}  // namespace ag
