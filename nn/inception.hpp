// The inception module of Szegedy et al. 2014 ("Going deeper with convolutions", GoogLeNet): four
// branches over the same input, concatenated along the channels.
//
//   1x1 conv (c1)
//   1x1 conv (c3_reduce), then 3x3 conv pad 1 (c3)
//   1x1 conv (c5_reduce), then 5x5 conv pad 2 (c5)
//   3x3 max-pool stride 1 pad 1, then 1x1 conv (pool_proj)
//
// each convolution followed by ReLU: [N, in, H, W] -> [N, c1 + c3 + c5 + pool_proj, H, W].
//
// A composition of Conv2d layers and ag::max_pool2d, ag::relu and ag::concat: no rule of its own.
#pragma once

#include <memory>

#include "nn/convolution.hpp"

namespace ag::nn {

// The output channels of each convolution, named as in the paper's table 1 ("#3x3 reduce" is
// c3_reduce). GoogLeNet's inception (3a) on 192 channels: {64, 96, 128, 16, 32, 32}, 256 out.
struct InceptionChannels {
  std::size_t c1, c3_reduce, c3, c5_reduce, c5, pool_proj;
};

struct InceptionOptions {
  Init init = Init::he;            // every convolution's weight; the biases start at zero
  Generator* generator = nullptr;  // draws the weights; null: default_generator()
};

// Sub-modules, registered in this order: "conv1", "conv3_reduce", "conv3", "conv5_reduce",
// "conv5", "pool_proj" (each a Conv2d with weight and bias), so that parameters() and
// checkpoints see "conv3.weight" and so on. The output's channels are in the same order:
// conv1's, conv3's, conv5's, pool_proj's.
template <class T = float>
class Inception : public Layer<T> {
 public:
  // Throws std::invalid_argument, naming the module, when any channel count is 0.
  Inception(std::size_t in_channels, InceptionChannels channels, InceptionOptions options = {});
  // Throws ShapeError, naming the module and the shape, unless x is [N, in_channels, H, W].
  Variable<T> forward(const Variable<T>& x) override;
  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return channels_.c1 + channels_.c3 + channels_.c5 + channels_.pool_proj; }
  const InceptionChannels& channels() const { return channels_; }

  const std::shared_ptr<Conv2d<T>>& conv1() const { return conv1_; }
  const std::shared_ptr<Conv2d<T>>& conv3_reduce() const { return conv3_reduce_; }
  const std::shared_ptr<Conv2d<T>>& conv3() const { return conv3_; }
  const std::shared_ptr<Conv2d<T>>& conv5_reduce() const { return conv5_reduce_; }
  const std::shared_ptr<Conv2d<T>>& conv5() const { return conv5_; }
  const std::shared_ptr<Conv2d<T>>& pool_proj() const { return pool_proj_; }

 private:
  std::size_t in_;
  InceptionChannels channels_;
  std::shared_ptr<Conv2d<T>> conv1_, conv3_reduce_, conv3_, conv5_reduce_, conv5_, pool_proj_;
};

template <class T = float>
std::shared_ptr<Inception<T>> inception(std::size_t in_channels, InceptionChannels channels,
                                        InceptionOptions options = {}) {
  return std::make_shared<Inception<T>>(in_channels, channels, options);
}

extern template class Inception<float>;
extern template class Inception<double>;

}  // namespace ag::nn
