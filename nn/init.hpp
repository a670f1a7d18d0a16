// Initialising parameters, from a seedable generator. A weight matrix is [fan_in, fan_out]
// (entry (i, j) joins unit i to unit j, as the course's w_{i,j}). A convolution kernel
// [out, in / groups, KH, KW] gives its fans explicitly (conv2d_fans).
//
//   random_low   U(-scale, scale): the course's "w_{i,j} <- random low value"
//   xavier       U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, for tanh/sigmoid)
//   he           N(0, 2 / fan_in) (He et al., for ReLU)
#pragma once

#include <autograd/variable.hpp>

#include "nn/random.hpp"

namespace ag::nn {

enum class Init { random_low, xavier, he, zeros };

// How many units feed one unit of a layer (in) and how many one unit feeds (out).
struct Fans {
  std::size_t in = 1, out = 1;
};

// A convolution's: each output sees (in / groups) KH KW inputs and each input reaches
// (out / groups) KH KW outputs. PyTorch's fan_in is the same; its fan_out, out KH KW, ignores the
// groups (it reads the kernel's first dimension), so Xavier differs from PyTorch's when groups > 1.
Fans conv2d_fans(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_h, std::size_t kernel_w,
                 std::size_t groups = 1);

// Fills `param` in place. Fans are the first two dimensions of a matrix; vectors use their size.
template <class T>
void initialize(Variable<T>& param, Init scheme, Generator& generator = default_generator(), T low_scale = T(0.05));
// The same with the fans given, whatever the parameter's shape.
template <class T>
void initialize(Variable<T>& param, Init scheme, Fans fans, Generator& generator = default_generator(),
                T low_scale = T(0.05));

}  // namespace ag::nn
