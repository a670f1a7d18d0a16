// Recording an op on the tape.
//
// A primitive is an op with a gradient rule of its own. It computes its value, then hands it to
// `record` with its Primitive (its name), its inputs and its rule. `record` decides whether there
// is anything to differentiate (grad mode is on and some input requires grad); if so the result
// becomes a node of the graph at the next tape position, otherwise it is a plain constant and the
// rule is dropped unused.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/grad_mode.hpp"
#include "autograd/variable.hpp"

namespace ag {

// The name of a primitive, defined once as a constant beside the primitive's code:
//   const Primitive op_mul("mul");          // ops/arithmetic.cpp, above mul()
// Constructing one registers its name, so `primitives()` lists every name that record() can write
// into a node, from the same constants (tests/ops_gradcheck_test.cpp checks that each has a
// gradient check). Define them at namespace scope, never per call; a name given twice throws.
class Primitive {
 public:
  // The engine's own, which its gradcheck suite must check, or a program's own op.
  enum class Kind { engine, custom };
  explicit Primitive(const char* name, Kind kind = Kind::engine);
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;
  const char* name() const { return name_; }

 private:
  const char* name_;
};

// The names of the engine's primitives (Kind::engine), sorted.
std::vector<std::string> primitives();

// The next tape position. One counter for all threads, so that an op recorded after its inputs
// (in any thread) always has a later position than theirs.
std::uint64_t next_tape_position();

// Throws AnomalyError naming the op and the pass when `value` holds a NaN or an Inf.
template <class T>
void check_finite(const char* op, const char* pass, const Tensor<T>& value);

class AnomalyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What an op's gradient rule reads besides the incoming gradient: the values of some of its
// inputs, and its own output. `attach` remembers the versions of what is read, and backward
// refuses to replay the rule if any changed in place since (variable.hpp). Rules that only route
// the gradient (add, reshape, concat, ...) read nothing and need no check. Inputs past the third
// share one flag: naming one of them checks them all.
namespace reads {
inline constexpr std::uint32_t nothing = 0;
inline constexpr std::uint32_t output = 1u << 3;
inline constexpr std::uint32_t later_inputs = 1u << 4;
constexpr std::uint32_t input(unsigned i) {
  return i < 3 ? 1u << i : later_inputs;
}
inline constexpr std::uint32_t all = input(0) | input(1) | input(2) | later_inputs | output;
}  // namespace reads

// Whether an op on these inputs is recorded: grad mode is on and one of them requires grad.
template <class Inputs>
bool recording(const Inputs& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& v : inputs) {
    if (v.requires_grad()) return true;
  }
  return false;
}

// Makes `result` the output of `op` on the tape.
template <class T>
void attach(Variable<T>& result, const Primitive& op, VariableList<T> inputs, GradRule<T> rule, std::uint32_t read);

// The result of an op: a node of the graph when recording, otherwise a constant. The inputs
// list and the rule are only built in the first case, so that the ops a gradient rule runs
// under NoGrad pay for neither. `read` says which values the rule reads (reads::all when unsure:
// a needless check can only refuse a backward, never let a wrong gradient through).
template <class T, class Inputs, class Rule>
Variable<T> record(const Primitive& op, Tensor<T> value, const Inputs& inputs, Rule&& rule,
                   std::uint32_t read = reads::all) {
  if (anomaly_mode()) check_finite(op.name(), "forward", value);
  Variable<T> result(std::move(value));
  if (recording(inputs)) {
    attach(result, op, VariableList<T>(inputs.begin(), inputs.end()), GradRule<T>(std::forward<Rule>(rule)), read);
  }
  return result;
}

template <class T, class Rule>
Variable<T> record(const Primitive& op, Tensor<T> value, std::initializer_list<Variable<T>> inputs, Rule&& rule,
                   std::uint32_t read = reads::all) {
  return record<T, std::initializer_list<Variable<T>>, Rule>(op, std::move(value), inputs, std::forward<Rule>(rule),
                                                             read);
}

// Brace-initialised gradient lists for rules: `return grads(g * b, g * a);`.
template <class T, class... Rest>
VariableList<T> grads(Variable<T> first, Rest... rest) {
  return VariableList<T>{std::move(first), std::move(rest)...};
}

}  // namespace ag
