#include "nn/inception.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace ag::nn {

template <class T>
Inception<T>::Inception(std::size_t in_channels, InceptionChannels channels, InceptionOptions options)
    : in_(in_channels), channels_(channels) {
  const auto& c = channels;
  if (in_channels == 0 || c.c1 == 0 || c.c3_reduce == 0 || c.c3 == 0 || c.c5_reduce == 0 || c.c5 == 0 ||
      c.pool_proj == 0) {
    throw std::invalid_argument(fmt::format(
        "Inception({} channels in, c1 {}, c3_reduce {}, c3 {}, c5_reduce {}, c5 {}, pool_proj {}): every channel "
        "count must be at least 1",
        in_channels, c.c1, c.c3_reduce, c.c3, c.c5_reduce, c.c5, c.pool_proj));
  }
  const auto conv = [&](const char* name, std::size_t in, std::size_t out, long k) {
    const Conv2dLayerOptions layer{
        .conv = {.padding = {k / 2, k / 2}}, .init = options.init, .generator = options.generator};
    return this->register_module(name, nn::conv2d<T>(in, out, {k, k}, layer));
  };
  conv1_ = conv("conv1", in_channels, c.c1, 1);
  conv3_reduce_ = conv("conv3_reduce", in_channels, c.c3_reduce, 1);
  conv3_ = conv("conv3", c.c3_reduce, c.c3, 3);
  conv5_reduce_ = conv("conv5_reduce", in_channels, c.c5_reduce, 1);
  conv5_ = conv("conv5", c.c5_reduce, c.c5, 5);
  pool_proj_ = conv("pool_proj", in_channels, c.pool_proj, 1);
}

template <class T>
Variable<T> Inception<T>::forward(const Variable<T>& x) {
  const Shape shape = x.shape();
  if (shape.size() != 4 || shape[1] != in_) {
    throw ShapeError(
        fmt::format("Inception({} channels in): input {} must be images [N, {}, H, W]", in_, shape_str(shape), in_));
  }
  const Variable<T> b1 = ag::relu(conv1_->forward(x));
  const Variable<T> b3 = ag::relu(conv3_->forward(ag::relu(conv3_reduce_->forward(x))));
  const Variable<T> b5 = ag::relu(conv5_->forward(ag::relu(conv5_reduce_->forward(x))));
  const Variable<T> pooled =
      ag::max_pool2d(x, {.kernel = {3, 3}, .stride = std::array<long, 2>{1, 1}, .padding = {1, 1}});
  const Variable<T> b_pool = ag::relu(pool_proj_->forward(pooled));
  return ag::concat({b1, b3, b5, b_pool}, 1);
}

template class Inception<float>;
template class Inception<double>;

}  // namespace ag::nn
