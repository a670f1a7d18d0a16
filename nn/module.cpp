#include "nn/module.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace ag::nn {

template <class T>
Variable<T> Module<T>::register_parameter(std::string name, Tensor<T> value) {
  for (const auto& [existing, _] : parameters_) {
    if (existing == name) throw std::invalid_argument(fmt::format("register_parameter: '{}' is registered twice", name));
  }
  parameters_.emplace_back(std::move(name), Variable<T>(std::move(value), true));
  return parameters_.back().second;
}

template <class T>
void Module<T>::collect(const std::string& prefix, std::vector<std::pair<std::string, Variable<T>>>& out) const {
  for (const auto& [name, p] : parameters_) out.emplace_back(prefix + name, p);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

template <class T>
std::vector<std::pair<std::string, Variable<T>>> Module<T>::named_parameters() const {
  std::vector<std::pair<std::string, Variable<T>>> out;
  collect("", out);
  return out;
}

template <class T>
std::vector<Variable<T>> Module<T>::parameters() const {
  std::vector<Variable<T>> out;
  for (auto& [_, p] : named_parameters()) out.push_back(p);
  return out;
}

template <class T>
std::size_t Module<T>::parameter_count() const {
  std::size_t n = 0;
  for (const auto& [_, p] : named_parameters()) n += p.size();
  return n;
}

template <class T>
void Module<T>::train(bool training) {
  training_ = training;
  for (auto& [_, child] : children_) child->train(training);
}

template <class T>
void Module<T>::zero_grad() {
  for (auto& [_, p] : named_parameters()) p.zero_grad();
}

template <class T>
std::string Module<T>::summary() const {
  std::string out = fmt::format("{:<32} {:<16} {:>10}\n", "parameter", "shape", "count");
  for (const auto& [name, p] : named_parameters()) {
    out += fmt::format("{:<32} {:<16} {:>10}\n", name, shape_str(p.shape()), p.size());
  }
  return out + fmt::format("{:<32} {:<16} {:>10}\n", "total", "", parameter_count());
}

template class Module<float>;
template class Module<double>;

}  // namespace ag::nn
