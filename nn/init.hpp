// Initialising parameters, from a seedable generator. A weight matrix is [fan_in, fan_out]
// (entry (i, j) joins unit i to unit j, as the course's w_{i,j}).
//
//   random_low   U(-scale, scale): the course's "w_{i,j} <- random low value"
//   xavier       U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, for tanh/sigmoid)
//   he           N(0, 2 / fan_in) (He et al., for ReLU)
#pragma once

#include <autograd/variable.hpp>

#include "nn/random.hpp"

namespace ag::nn {

enum class Init { random_low, xavier, he, zeros };

// Fills `param` in place. Fans are the first two dimensions of a matrix; vectors use their size.
template <class T>
void initialize(Variable<T>& param, Init scheme, Generator& generator = default_generator(), T low_scale = T(0.05));

}  // namespace ag::nn
