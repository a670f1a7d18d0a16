#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include "autograd/grad_mode.hpp"
#include "autograd/instantiate.hpp"

namespace ag {

namespace {
std::atomic<std::uint64_t> tape_end{0};

// The registry of primitives' names. A function's static, so that it exists before the first
// Primitive of any file is constructed; a mutex, for a Primitive that is a function's static.
struct Registry {
  std::mutex mutex;
  std::vector<std::string> names, engine;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

Primitive::Primitive(const char* name, Kind kind) : name_(name) {
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) {
    throw std::logic_error(fmt::format("Primitive: '{}' is defined twice", name));
  }
  r.names.emplace_back(name);
  if (kind == Kind::engine) r.engine.emplace_back(name);
}

std::vector<std::string> primitives() {
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names = r.engine;
  std::sort(names.begin(), names.end());
  return names;
}

std::uint64_t next_tape_position() {
  return tape_end.fetch_add(1, std::memory_order_relaxed) + 1;
}

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
void attach(Variable<T>& result, const Primitive& op, VariableList<T> inputs, GradRule<T> rule, std::uint32_t read) {
  detail::Node<T>& node = *detail::Access::node(result);
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
  node.op = op.name();
  node.inputs = std::move(inputs);
  node.rule = std::move(rule);
  node.tape_position = next_tape_position();
}

#define AG_TAPE(T)                                                        \
  template void check_finite(const char*, const char*, const Tensor<T>&); \
  template void attach(Variable<T>&, const Primitive&, VariableList<T>, GradRule<T>, std::uint32_t);
AG_INSTANTIATE(AG_TAPE)

}  // namespace ag
