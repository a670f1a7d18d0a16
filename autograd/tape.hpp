// Recording an op on the tape.
//
// Every primitive op computes its value, then hands it to `record` with its inputs and its
// gradient rule. `record` decides whether there is anything to differentiate (grad mode is on
// and some input requires grad); if so the result becomes a node of the graph at the next tape
// position, otherwise it is a plain constant and the rule is dropped unused.
#pragma once

#include "autograd/variable.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace ag {

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

template <class T>
Variable<T> record(const char* op, Tensor<T> value, std::vector<Variable<T>> inputs, GradRule<T> rule);

// Brace-initialised gradient lists for rules: `return grads(g * b, g * a);`.
template <class T, class... Rest>
std::vector<Variable<T>> grads(Variable<T> first, Rest... rest) {
  return std::vector<Variable<T>>{std::move(first), std::move(rest)...};
}

extern template Variable<float> record(const char*, Tensor<float>, std::vector<Variable<float>>, GradRule<float>);
extern template Variable<double> record(const char*, Tensor<double>, std::vector<Variable<double>>, GradRule<double>);

}  // namespace ag
