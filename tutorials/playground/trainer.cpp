#include "trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nn/losses.hpp>
#include <numbers>
#include <random>
#include <stdexcept>
#include <xtensor/xview.hpp>

namespace playground {

namespace {

using ag::Tensor;

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

template <class T>
ag::Variable<T> activate(const std::string& name, const ag::Variable<T>& x) {
  if (name == "tanh") return ag::tanh(x);
  if (name == "relu") return ag::relu(x);
  if (name == "sigmoid") return ag::sigmoid(x);
  return x;  // linear
}

// The rows `index` of points (x, y pairs) and their labels, as [rows, 2] and [rows, 1].
void gather(const Dataset& d, const std::vector<std::size_t>& index, Tensor<float>& x, Tensor<float>& y) {
  x = ag::uninitialized<float>({index.size(), 2});
  y = ag::uninitialized<float>({index.size(), 1});
  for (std::size_t r = 0; r < index.size(); ++r) {
    x(r, 0) = d.x[2 * index[r]];
    x(r, 1) = d.x[2 * index[r] + 1];
    y(r, 0) = d.label[index[r]];
  }
}

// The grid's points, row by row from the top, as [resolution^2, 2].
Tensor<float> grid(int resolution, double extent) {
  require(resolution >= 2 && resolution <= 512, fmt::format("resolution {} is outside 2 .. 512", resolution));
  require(std::isfinite(extent) && extent > 0, "extent must be a positive number");
  const auto n = static_cast<std::size_t>(resolution);
  Tensor<float> g = ag::uninitialized<float>({n * n, 2});
  const double step = 2 * extent / static_cast<double>(n - 1);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < n; ++c) {
      g(r * n + c, 0) = static_cast<float>(-extent + step * static_cast<double>(c));
      g(r * n + c, 1) = static_cast<float>(extent - step * static_cast<double>(r));
    }
  }
  return g;
}

}  // namespace

Dataset make_dataset(const std::string& kind, int points, double noise, double train_fraction, std::uint64_t seed) {
  require(points >= 2 && points <= 10000, fmt::format("points: {} is outside 2 .. 10000", points));
  require(std::isfinite(noise) && noise >= 0 && noise <= 1, fmt::format("noise: {} is outside 0 .. 1", noise));
  require(train_fraction > 0 && train_fraction < 1,
          fmt::format("train fraction: {} is outside (0, 1)", train_fraction));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::normal_distribution<double> gauss(0, 1);
  const auto n = static_cast<std::size_t>(points);
  Dataset d;
  d.x.resize(2 * n);
  d.label.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x = 0, y = 0;
    const bool positive = i % 2 == 0;  // half of each class
    if (kind == "xor") {
      // The four quadrants, kept a little off the axes so that the classes do not touch.
      const double margin = 0.05;
      x = margin + (1 - margin) * std::abs(uniform(rng));
      y = margin + (1 - margin) * std::abs(uniform(rng));
      if (uniform(rng) < 0) x = -x;
      if ((x > 0) != positive) y = -y;  // positive: x y > 0
    } else if (kind == "circles") {
      // Class 1 inside radius 0.5, class 0 on a ring from 0.7 to 1.
      const double r = positive ? 0.5 * std::sqrt(0.5 * (uniform(rng) + 1)) : 0.7 + 0.15 * (uniform(rng) + 1);
      const double t = std::numbers::pi * uniform(rng);
      x = r * std::cos(t);
      y = r * std::sin(t);
    } else if (kind == "spirals") {
      // Two interleaved spirals of 1.75 turns, the second the first turned half a turn.
      const double s = static_cast<double>(i / 2) / static_cast<double>((n + 1) / 2);
      const double r = 0.9 * s + 0.05, t = 1.75 * 2 * std::numbers::pi * s + (positive ? 0 : std::numbers::pi);
      x = r * std::sin(t);
      y = r * std::cos(t);
    } else if (kind == "gaussians") {
      const double centre = positive ? 0.45 : -0.45;
      x = centre + 0.2 * gauss(rng);
      y = centre + 0.2 * gauss(rng);
    } else {
      throw std::invalid_argument(fmt::format("dataset: \"{}\" is not one of xor, circles, spirals, gaussians", kind));
    }
    d.x[2 * i] = static_cast<float>(x + noise * gauss(rng));
    d.x[2 * i + 1] = static_cast<float>(y + noise * gauss(rng));
    d.label[i] = positive ? 1.0f : 0.0f;
  }
  // A random split, with at least one point on each side.
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  const auto train = std::clamp<std::size_t>(static_cast<std::size_t>(std::lround(train_fraction * points)), 1, n - 1);
  d.train.assign(n, 0);
  for (std::size_t i = 0; i < train; ++i) d.train[order[i]] = 1;
  return d;
}

Trainer::Trainer(const TrainerConfig& config)
    : config_(config),
      data_(make_dataset(config.dataset, config.points, config.noise, config.train_fraction, config.seed)),
      generator_(config.seed) {
  require(config.hidden.size() <= 6, fmt::format("hidden layers: {} is more than 6", config.hidden.size()));
  for (int units : config.hidden) require(units >= 1 && units <= 8, fmt::format("units: {} is outside 1 .. 8", units));
  const std::string& a = config.activation;
  require(a == "tanh" || a == "relu" || a == "sigmoid" || a == "linear",
          fmt::format("activation: \"{}\" is not one of tanh, relu, sigmoid, linear", a));
  require(std::isfinite(config.learning_rate) && config.learning_rate > 0 && config.learning_rate <= 10,
          fmt::format("learning rate: {} is outside (0, 10]", config.learning_rate));
  require(config.batch_size >= 1 && config.batch_size <= 10000,
          fmt::format("batch size: {} is outside 1 .. 10000", config.batch_size));
  require(std::isfinite(config.l1) && config.l1 >= 0 && std::isfinite(config.l2) && config.l2 >= 0,
          "L1 and L2 must be numbers at least 0");

  std::vector<std::size_t> train, test;
  for (std::size_t i = 0; i < data_.train.size(); ++i) (data_.train[i] ? train : test).push_back(i);
  gather(data_, train, train_x_, train_y_);
  gather(data_, test, test_x_, test_y_);
  order_ = train;

  const ag::nn::Init init = a == "relu" ? ag::nn::Init::he : ag::nn::Init::xavier;
  std::size_t in = 2;
  std::vector<V> params;
  for (int units : config.hidden) {
    layers_.push_back(
        ag::nn::linear<float>(in, static_cast<std::size_t>(units), {.init = init, .generator = &generator_}));
    in = static_cast<std::size_t>(units);
  }
  layers_.push_back(ag::nn::linear<float>(in, 1, {.generator = &generator_}));
  for (const auto& layer : layers_) {
    weights_.push_back(layer->weight());
    params.push_back(layer->weight());
    params.push_back(layer->bias());
  }
  optimizer_ = std::make_unique<ag::nn::SGD<float>>(params, ag::nn::SGDOptions{.lr = config.learning_rate});
}

Trainer::V Trainer::logits(const V& x, std::vector<V>* hidden) const {
  V h = x;
  for (std::size_t l = 0; l + 1 < layers_.size(); ++l) {
    h = activate(config_.activation, layers_[l]->forward(h));
    if (hidden) hidden->push_back(h);
  }
  return layers_.back()->forward(h);
}

Trainer::V Trainer::objective(const V& x, const V& y) const {
  V loss = ag::nn::binary_cross_entropy_with_logits(logits(x), y);
  if (config_.l1 > 0) loss = loss + static_cast<float>(config_.l1) * ag::nn::l1_penalty(weights_);
  if (config_.l2 > 0) loss = loss + static_cast<float>(config_.l2) * ag::nn::l2_penalty(weights_);
  return loss;
}

Figures Trainer::step(int n) {
  require(n >= 0, "steps must be at least 0");
  const auto batch = std::min(static_cast<std::size_t>(config_.batch_size), order_.size());
  std::vector<std::size_t> rows(batch);
  Tensor<float> x, y;
  for (int s = 0; s < n; ++s) {
    if (next_ + batch > order_.size()) next_ = 0;
    if (next_ == 0) std::shuffle(order_.begin(), order_.end(), generator_.engine());
    std::copy_n(order_.begin() + static_cast<long>(next_), batch, rows.begin());
    next_ += batch;
    gather(data_, rows, x, y);
    optimizer_->zero_grad();
    ag::backward(objective(V(x), V(y)));
    optimizer_->step();
    ++steps_;
  }
  return figures();
}

Figures Trainer::figures() const {
  ag::NoGrad no_grad;
  Figures f;
  f.steps = steps_;
  const auto measure = [this](const Tensor<float>& x, const Tensor<float>& y, double& loss, double& accuracy) {
    if (x.shape()[0] == 0) return;
    const V z = logits(V(x));
    loss = ag::nn::binary_cross_entropy_with_logits(z, V(y)).value()();
    std::size_t right = 0;
    for (std::size_t i = 0; i < y.shape()[0]; ++i) right += (z.value()(i, 0) > 0) == (y(i, 0) > 0.5f);
    accuracy = static_cast<double>(right) / static_cast<double>(y.shape()[0]);
  };
  measure(train_x_, train_y_, f.train_loss, f.train_accuracy);
  measure(test_x_, test_y_, f.test_loss, f.test_accuracy);
  return f;
}

std::vector<float> Trainer::output_map(int resolution, double extent) const {
  ag::NoGrad no_grad;
  const Tensor<float> p = ag::sigmoid(logits(V(grid(resolution, extent)))).value();
  return std::vector<float>(p.begin(), p.end());
}

std::vector<UnitMap> Trainer::unit_maps(int resolution, double extent) const {
  ag::NoGrad no_grad;
  std::vector<V> hidden;
  logits(V(grid(resolution, extent)), &hidden);
  std::vector<UnitMap> maps;
  for (std::size_t l = 0; l < hidden.size(); ++l) {
    const Tensor<float>& h = hidden[l].value();
    for (std::size_t u = 0; u < h.shape()[1]; ++u) {
      UnitMap m{static_cast<int>(l), static_cast<int>(u), std::vector<float>(h.shape()[0])};
      for (std::size_t i = 0; i < h.shape()[0]; ++i) m.values[i] = h(i, u);
      maps.push_back(std::move(m));
    }
  }
  return maps;
}

GradcheckResult Trainer::gradcheck() const {
  // The same objective in double, its parameters the inputs: weights and biases, layer by layer.
  std::vector<Tensor<double>> params;
  for (const auto& layer : layers_) {
    params.push_back(xt::cast<double>(layer->weight().value()));
    params.push_back(xt::cast<double>(layer->bias().value()));
  }
  const std::size_t rows = std::min<std::size_t>(10, train_x_.shape()[0]);
  const Tensor<double> x = xt::cast<double>(xt::view(train_x_, xt::range(0, rows), xt::all()));
  const Tensor<double> y = xt::cast<double>(xt::view(train_y_, xt::range(0, rows), xt::all()));
  const TrainerConfig config = config_;
  const auto f = [&](const std::vector<ag::Variable<double>>& p) {
    ag::Variable<double> h(x);
    std::vector<ag::Variable<double>> weights;
    for (std::size_t l = 0; l < p.size(); l += 2) {
      h = ag::matmul(h, p[l]) + p[l + 1];
      if (l + 2 < p.size()) h = activate(config.activation, h);
      weights.push_back(p[l]);
    }
    ag::Variable<double> loss = ag::nn::binary_cross_entropy_with_logits(h, ag::Variable<double>(y));
    if (config.l1 > 0) loss = loss + config.l1 * ag::nn::l1_penalty(weights);
    if (config.l2 > 0) loss = loss + config.l2 * ag::nn::l2_penalty(weights);
    return loss;
  };
  const ag::GradcheckReport report = ag::gradcheck(f, params);
  GradcheckResult r;
  r.passed = report.ok;
  for (const ag::InputReport& input : report.inputs) r.max_error = std::max(r.max_error, input.max_abs_error);
  for (const Tensor<double>& p : params) r.checked += p.size();
  r.message = report.summary();
  return r;
}

}  // namespace playground
