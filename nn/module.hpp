// Modules: named parameters and sub-modules, as in libtorch.
//
// A model is a class deriving from Module that registers its parameters and sub-modules by
// name in its constructor; that one habit gives recursive parameter listing ("fc1.weight"),
// zero_grad, train/eval and checkpoints by name. C++ has no reflection, so naming is explicit.
// The forward computation is an ordinary member function built from autograd ops: a module
// never writes a gradient.
//
// Names: a parameter's or sub-module's name is one non-empty path component, without a dot (the
// dot joins the components of "fc1.weight"), and unique within its module, parameters and
// sub-modules together. register_parameter and register_module throw std::invalid_argument,
// naming the module's class and the name, for an empty, dotted or taken name (and for a null
// sub-module), and leave the module as it was.
#pragma once

#include <autograd/autograd.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ag::nn {

template <class T = float>
class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its sub-modules, depth first, named by path.
  std::vector<std::pair<std::string, Variable<T>>> named_parameters() const;
  std::vector<Variable<T>> parameters() const;
  std::size_t parameter_count() const;

  // Training mode (the default) or evaluation mode, for this module and every sub-module.
  void train(bool training = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();

  // A table of the parameters: name, shape, element count, and the total.
  std::string summary() const;

 protected:
  // Returns a handle to the new parameter: a Variable shares its node, so the module's member and
  // the registry see the same value and gradient.
  Variable<T> register_parameter(std::string name, Tensor<T> value);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    check_name("register_module", name);
    if (!module) throw_null_module(name);
    children_.emplace_back(std::move(name), module);
    return module;
  }

 private:
  // Throws std::invalid_argument unless `name` may be registered (see the rules above).
  void check_name(const char* function, const std::string& name) const;
  [[noreturn]] void throw_null_module(const std::string& name) const;
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Variable<T>>>& out) const;

  std::vector<std::pair<std::string, Variable<T>>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

// A module with one input and one output, which Sequential can chain.
template <class T = float>
class Layer : public Module<T> {
 public:
  virtual Variable<T> forward(const Variable<T>& input) = 0;
  Variable<T> operator()(const Variable<T>& input) { return forward(input); }
};

extern template class Module<float>;
extern template class Module<double>;

}  // namespace ag::nn
