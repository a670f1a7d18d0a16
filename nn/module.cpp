#include "nn/module.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <typeinfo>

namespace ag::nn {

namespace {

// The module's class, as the error messages name it ("TwoLayer", "ag::nn::Linear<float>").
std::string class_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                   std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(type.name());
}

}  // namespace

template <class T>
void Module<T>::check_name(const char* function, const std::string& name) const {
  const auto refuse = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("{}::{}(\"{}\"): {}", class_name(typeid(*this)), function, name, why));
  };
  if (name.empty()) refuse("a name must not be empty");
  if (name.find('.') != std::string::npos) {
    refuse("a name must not contain '.', which joins the names of a path such as \"fc1.weight\"");
  }
  for (const auto& [existing, _] : parameters_) {
    if (existing == name) refuse("this module already has a parameter of that name");
  }
  for (const auto& [existing, _] : children_) {
    if (existing == name) refuse("this module already has a sub-module of that name");
  }
}

template <class T>
void Module<T>::throw_null_module(const std::string& name) const {
  throw std::invalid_argument(
      fmt::format("{}::register_module(\"{}\"): the sub-module is null", class_name(typeid(*this)), name));
}

template <class T>
Variable<T> Module<T>::register_parameter(std::string name, Tensor<T> value) {
  check_name("register_parameter", name);
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
