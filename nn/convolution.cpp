#include "nn/convolution.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace ag::nn {

namespace {

std::string pair_str(const std::array<long, 2>& a) {
  return fmt::format("[{}, {}]", a[0], a[1]);
}

// Throws ShapeError naming `layer` unless x is a batch of images [N, C, H, W].
void check_images(const std::string& layer, const Shape& x) {
  if (x.size() != 4) {
    throw ShapeError(
        fmt::format("{}: input {} must be images [N, C, H, W] (rank 4, not {})", layer, shape_str(x), x.size()));
  }
}

void check_pool_options(const char* layer, const Pool2dOptions& options) {
  const auto refuse = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("{}(kernel {}): {}", layer, pair_str(options.kernel), why));
  };
  for (int i = 0; i < 2; ++i) {
    if (options.kernel[i] < 1) refuse("the window must be at least 1 x 1");
    if (options.stride && (*options.stride)[i] < 1) {
      refuse(fmt::format("stride {} must be at least 1", pair_str(*options.stride)));
    }
    if (options.padding[i] < 0 || options.padding[i] > options.kernel[i] / 2) {
      refuse(fmt::format("padding {} must be from 0 to half the window", pair_str(options.padding)));
    }
  }
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(std::size_t in_channels, std::size_t out_channels, std::array<long, 2> kernel,
                  Conv2dLayerOptions options)
    : in_(in_channels), out_(out_channels), kernel_(kernel), conv_(options.conv) {
  const auto refuse = [&](const std::string& why) {
    throw std::invalid_argument(fmt::format("Conv2d({} -> {} channels, kernel {}, groups {}): {}", in_channels,
                                            out_channels, pair_str(kernel), conv_.groups, why));
  };
  if (in_channels == 0 || out_channels == 0) refuse("the channels must be at least 1");
  if (conv_.groups < 1) refuse("the groups must be at least 1");
  const auto groups = static_cast<std::size_t>(conv_.groups);
  if (in_channels % groups != 0 || out_channels % groups != 0) {
    refuse("the groups must divide both the input and the output channels");
  }
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] < 1) refuse("the kernel must be at least 1 x 1");
    if (conv_.stride[i] < 1) refuse(fmt::format("stride {} must be at least 1", pair_str(conv_.stride)));
    if (conv_.dilation[i] < 1) refuse(fmt::format("dilation {} must be at least 1", pair_str(conv_.dilation)));
    if (conv_.padding[i] < 0) refuse(fmt::format("padding {} must not be negative", pair_str(conv_.padding)));
  }
  const auto kh = static_cast<std::size_t>(kernel[0]), kw = static_cast<std::size_t>(kernel[1]);
  weight_ = this->register_parameter("weight", uninitialized<T>({out_channels, in_channels / groups, kh, kw}));
  initialize(weight_, options.init, conv2d_fans(in_channels, out_channels, kh, kw, groups),
             options.generator ? *options.generator : default_generator());
  if (options.bias) bias_ = this->register_parameter("bias", full<T>({out_channels}, T(0)));
}

template <class T>
Variable<T> Conv2d<T>::forward(const Variable<T>& x) {
  const Shape shape = x.shape();
  const auto layer = [&] { return fmt::format("Conv2d({} -> {} channels)", in_, out_); };
  check_images(layer(), shape);
  if (shape[1] != in_) {
    throw ShapeError(fmt::format("{}: input {} has {} channels, the weight {} takes {}", layer(), shape_str(shape),
                                 shape[1], shape_str(weight_.shape()), in_));
  }
  // The bias, one value per output channel, is added inside the convolution's product (undefined:
  // none).
  return ag::conv2d(x, weight_, bias_, conv_);
}

template <class T>
MaxPool2d<T>::MaxPool2d(Pool2dOptions options) : options_(options) {
  check_pool_options("MaxPool2d", options);
}

template <class T>
Variable<T> MaxPool2d<T>::forward(const Variable<T>& x) {
  check_images("MaxPool2d", x.shape());
  return ag::max_pool2d(x, options_);
}

template <class T>
AvgPool2d<T>::AvgPool2d(Pool2dOptions options) : options_(options) {
  check_pool_options("AvgPool2d", options);
}

template <class T>
Variable<T> AvgPool2d<T>::forward(const Variable<T>& x) {
  check_images("AvgPool2d", x.shape());
  return ag::avg_pool2d(x, options_);
}

template <class T>
Variable<T> Flatten<T>::forward(const Variable<T>& x) {
  const Shape shape = x.shape();
  if (shape.empty()) throw ShapeError("Flatten: input [] is a scalar, without a batch axis [N, ...]");
  std::size_t rest = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) rest *= shape[i];
  return reshape(x, {static_cast<long>(shape[0]), static_cast<long>(rest)});
}

template class Conv2d<float>;
template class Conv2d<double>;
template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template class AvgPool2d<double>;
template class Flatten<float>;
template class Flatten<double>;

}  // namespace ag::nn
