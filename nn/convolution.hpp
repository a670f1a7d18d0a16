// Convolutional layers: Conv2d, MaxPool2d, AvgPool2d and Flatten, on batches of images
// [N, C, H, W]. Each forward is an autograd op (ag::conv2d, ag::max_pool2d, ag::avg_pool2d,
// ag::reshape) and, for Conv2d, a broadcast bias: the gradients are the engine's.
#pragma once

#include <array>
#include <memory>

#include "nn/init.hpp"
#include "nn/module.hpp"

namespace ag::nn {

// How a Conv2d layer is made, named at the call site with designated initialisers:
//   nn::Conv2d<float> conv(1, 8, {5, 5}, {.conv = {.padding = {2, 2}}, .generator = &gen});
//   auto c = nn::conv2d<float>(8, 16, {3, 3}, {.conv = {.stride = {2, 2}}, .bias = false});
struct Conv2dLayerOptions {
  Conv2dOptions conv{};            // stride, padding, dilation and groups, as ag::conv2d takes them
  Init init = Init::he;            // the weight's scheme, fans by conv2d_fans (nn/init.hpp); the bias starts at zero
  bool bias = true;                // false: y = conv2d(x, W), and bias() is undefined
  Generator* generator = nullptr;  // draws the weight; null: default_generator() (seed with manual_seed)
};

// y = conv2d(x, W) + b, with W [out, in / groups, KH, KW] and b [out], added to every position:
// [N, in, H, W] -> [N, out, OH, OW].
template <class T = float>
class Conv2d : public Layer<T> {
 public:
  // Throws std::invalid_argument, naming the layer, for zero channels, channels that the groups do
  // not divide, a kernel, stride or dilation below 1, or a negative padding.
  Conv2d(std::size_t in_channels, std::size_t out_channels, std::array<long, 2> kernel,
         Conv2dLayerOptions options = {});
  // Throws ShapeError, naming the layer and the shapes, unless x is [N, in, H, W].
  Variable<T> forward(const Variable<T>& x) override;
  Variable<T>& weight() { return weight_; }
  // Undefined when the layer has no bias.
  Variable<T>& bias() { return bias_; }
  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  std::array<long, 2> kernel() const { return kernel_; }
  const Conv2dOptions& options() const { return conv_; }

 private:
  std::size_t in_, out_;
  std::array<long, 2> kernel_;
  Conv2dOptions conv_;
  Variable<T> weight_, bias_;
};

// The largest element of each window of each channel: [N, C, H, W] -> [N, C, OH, OW].
template <class T = float>
class MaxPool2d : public Layer<T> {
 public:
  // Throws std::invalid_argument for a window or stride below 1, or a padding outside
  // [0, window / 2].
  explicit MaxPool2d(Pool2dOptions options = {});
  // Throws ShapeError unless x is [N, C, H, W].
  Variable<T> forward(const Variable<T>& x) override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

// The mean of each window of each channel (padding zeros counted unless .count_include_pad is false).
template <class T = float>
class AvgPool2d : public Layer<T> {
 public:
  explicit AvgPool2d(Pool2dOptions options = {});
  Variable<T> forward(const Variable<T>& x) override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

// [N, ...] -> [N, the product of the rest]: feature maps to a Linear layer's rows. [N] -> [N, 1].
template <class T = float>
class Flatten : public Layer<T> {
 public:
  // Throws ShapeError for a scalar, which has no batch axis.
  Variable<T> forward(const Variable<T>& x) override;
};

// The layers to register or to put in a Sequential:
//   nn::Sequential<float> net{nn::conv2d<float>(1, 8, {5, 5}, {.conv = {.padding = {2, 2}}}), nn::relu<float>(),
//                             nn::max_pool2d<float>({.kernel = {2, 2}}), nn::flatten<float>(),
//                             nn::linear<float>(8 * 14 * 14, 10)};
template <class T = float>
std::shared_ptr<Conv2d<T>> conv2d(std::size_t in_channels, std::size_t out_channels, std::array<long, 2> kernel,
                                  Conv2dLayerOptions options = {}) {
  return std::make_shared<Conv2d<T>>(in_channels, out_channels, kernel, options);
}
template <class T = float>
std::shared_ptr<MaxPool2d<T>> max_pool2d(Pool2dOptions options = {}) {
  return std::make_shared<MaxPool2d<T>>(options);
}
template <class T = float>
std::shared_ptr<AvgPool2d<T>> avg_pool2d(Pool2dOptions options = {}) {
  return std::make_shared<AvgPool2d<T>>(options);
}
template <class T = float>
std::shared_ptr<Flatten<T>> flatten() {
  return std::make_shared<Flatten<T>>();
}

extern template class Conv2d<float>;
extern template class Conv2d<double>;
extern template class MaxPool2d<float>;
extern template class MaxPool2d<double>;
extern template class AvgPool2d<float>;
extern template class AvgPool2d<double>;
extern template class Flatten<float>;
extern template class Flatten<double>;

}  // namespace ag::nn
