// Float convolutions on oneDNN's direct kernels, when the engine is built with oneDNN
// (AUTOGRAD_DNNL). Not part of the public API.
//
// A convolution lowered to BLAS products (conv.cpp) is bound by sgemm and by the lowering's copies;
// oneDNN's kernels convolve images in a channel-blocked layout without lowering them, about twice
// as fast on AVX-512 (bench/, conv_layer_32to64_3x3_batch64). Our tensors stay [N, C, H, W]: each
// call reorders its operands into the layout the kernel chose and its result back. Each function
// returns false, having written nothing, when oneDNN is not built in, is switched off, has no
// kernel for the geometry, or is called inside the caller's own OpenMP parallel region; conv.cpp
// then lowers to BLAS, as it does in double.
#pragma once

#include <cstddef>

#include "autograd/ops/windows.hpp"

namespace ag::detail {

// y = conv2d(x, w) + bias (bias may be null).
bool dnnl_conv_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y);
// dx = conv_transpose2d(dy, w).
bool dnnl_conv_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx);
// dw = conv2d_weight_grad(x, dy).
bool dnnl_conv_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw);

// Whether float convolutions go to oneDNN (true by default when it is built in); the tests switch
// it off to check the BLAS lowering in float too. For every thread of the program.
void set_dnnl_convolutions(bool enabled);
bool dnnl_convolutions_enabled();
// How many convolutions oneDNN has computed so far (for the tests: a path that silently stopped
// being taken would still compute the right values).
std::size_t dnnl_convolutions_run();

}  // namespace ag::detail
