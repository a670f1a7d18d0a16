#include "autograd/variable.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "autograd/grad_mode.hpp"
#include "autograd/instantiate.hpp"
#include "autograd/ops.hpp"

namespace ag {

namespace {
// Per thread, so that counting costs no atomic operation on the hot path.
thread_local long node_count = 0;
}  // namespace

long live_nodes() {
  return node_count;
}

void throw_undefined(const char* what) {
  throw UndefinedVariableError(
      fmt::format("{}: the variable is undefined (a default-constructed Variable, or the grad() of a variable that no "
                  "backward has reached)",
                  what));
}

template <class T>
detail::Node<T>::Node(Tensor<T>&& v) : value(std::move(v)) {
  ++node_count;
}

// Defined inside namespace detail: clang finds ~Node only in the class's own scope.
namespace detail {
template <class T>
Node<T>::~Node() {
  --node_count;
  // Freeing a chain node by node would recurse once per node and overflow the stack on a deep
  // graph. Instead the outermost destructor on this thread owns a work list: inner destructors
  // only hand their inputs to it, and the outermost one drops them one at a time.
  thread_local std::vector<Variable<T>> to_free;
  thread_local bool freeing = false;
  for (Variable<T>& input : inputs) to_free.push_back(std::move(input));
  if (freeing) return;
  freeing = true;
  while (!to_free.empty()) {
    Variable<T> last = std::move(to_free.back());
    to_free.pop_back();
  }  // `last` dies here; if it was the last owner its node's inputs land on the list
  freeing = false;
}
}  // namespace detail

template <class T>
Variable<T>::Variable(Tensor<T> value, bool requires_grad)
    : node_(std::allocate_shared<detail::Node<T>>(CachingAllocator<detail::Node<T>>(), std::move(value))) {
  node_->requires_grad = requires_grad;
}

template <class T>
T Variable<T>::item() const {
  const Tensor<T>& v = checked("item").value;
  if (v.size() != 1) {
    throw ShapeError(fmt::format("item: the variable has shape {}, not a single element", shape_str(shape())));
  }
  return *v.data();
}

template <class T>
bool Variable<T>::requires_grad() const {
  return node_ && node_->requires_grad;
}

template <class T>
Variable<T>& Variable<T>::set_requires_grad(bool requires_grad) {
  detail::Node<T>& n = checked("set_requires_grad");
  if (n.op != nullptr) {
    throw std::logic_error(
        fmt::format("set_requires_grad: only leaves can be marked; this variable is the result of '{}' "
                    "(use detach() to make a leaf from it)",
                    n.op));
  }
  n.requires_grad = requires_grad;
  return *this;
}

template <class T>
bool Variable<T>::is_leaf() const {
  return checked("is_leaf").op == nullptr;
}

template <class T>
const char* Variable<T>::op_name() const {
  const detail::Node<T>& n = checked("op_name");
  return n.op ? n.op : "leaf";
}

template <class T>
const VariableList<T>& Variable<T>::inputs() const {
  return checked("inputs").inputs;
}

template <class T>
const Variable<T>& Variable<T>::grad() const {
  return checked("grad").grad;
}

template <class T>
Variable<T>& Variable<T>::retain_grad() {
  checked("retain_grad").retains_grad = true;
  return *this;
}

template <class T>
void Variable<T>::zero_grad() {
  checked("zero_grad").grad = Variable<T>();
}

template <class T>
Variable<T> Variable<T>::detach() const {
  return Variable<T>(checked("detach").value);
}

#define AG_VARIABLE(T)        \
  template class Variable<T>; \
  template struct detail::Node<T>;
AG_INSTANTIATE(AG_VARIABLE)

}  // namespace ag
