// This engine's side of the benchmark (workloads.hpp).
#include <cblas.h>

#include <autograd/autograd.hpp>
#include <autograd/parallel.hpp>
#include <nn/nn.hpp>
#include <random>

#include "workloads.hpp"

namespace bench {

using V = ag::Variable<float>;
using T = ag::Tensor<float>;

namespace {

T random_tensor(const ag::Shape& shape, float scale, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, scale);
  T t = T::from_shape(shape);
  for (float& v : t) v = normal(rng);
  return t;
}

// {{1}, {-3}} is ambiguous to xtensor's nested-list constructors: build columns by reshaping.
T column(std::initializer_list<float> values) {
  T t(values);
  t.reshape({values.size(), 1});
  return t;
}

void sgd(std::vector<V>& params, float lr) {
  ag::NoGrad no_grad;
  for (V& p : params) {
    p.mutable_value() -= lr * p.grad().value();
    p.zero_grad();
  }
}

}  // namespace

Workload course_step() {
  auto params = std::make_shared<std::vector<V>>(std::vector<V>{V(T{{0.5f, -1.0f}, {1.5f, -2.0f}}, true),
                                                                V(T{{1.0f, -1.0f}, {3.0f, -4.0f}}, true),
                                                                V(column({1.0f, -3.0f}), true)});
  const V x(T{{2.0f, -1.0f}}), y(column({1.0f}));
  return {[params, x, y] {
            std::vector<V>& p = *params;
            const V out_in = ag::matmul(ag::sigmoid(ag::matmul(ag::sigmoid(ag::matmul(x, p[0])), p[1])), p[2]);
            // Binary cross-entropy on the logit (the loss whose gradient is the slides' Delta = y - a),
            // fused as libtorch's binary_cross_entropy_with_logits is.
            const V loss = ag::sum(ag::logistic_loss(out_in, y));
            ag::backward(loss);
            sgd(p, 0.2f);
          },
          1};
}

Workload scalar_chain(int ops) {
  const V x(T(1.0f), true), w(T(0.999f), true), b(T(0.001f), true);
  return {[=] {
            V y = x;
            for (int i = 0; i < ops; ++i) y = (i % 2 == 0) ? ag::mul(y, w) : ag::add(y, b);
            ag::backward(y);
            for (V v : {x, w, b}) v.zero_grad();
          },
          static_cast<double>(ops)};
}

Workload mlp_sgd_step(int batch) {
  std::mt19937 rng(7);
  auto params = std::make_shared<std::vector<V>>();
  const int sizes[] = {784, 256, 128, 10};
  for (int l = 0; l < 3; ++l) {
    const auto fan_in = static_cast<std::size_t>(sizes[l]), fan_out = static_cast<std::size_t>(sizes[l + 1]);
    params->push_back(V(random_tensor({fan_in, fan_out}, std::sqrt(2.0f / static_cast<float>(fan_in)), rng), true));
    params->push_back(V(ag::full<float>({fan_out}, 0.0f), true));
  }
  const auto n = static_cast<std::size_t>(batch);
  const V x(random_tensor({n, 784}, 1.0f, rng));
  T one_hot = ag::full<float>({n, 10}, 0.0f);
  for (std::size_t i = 0; i < n; ++i) one_hot(i, i % 10) = 1.0f;
  const V y(one_hot);
  return {[params, x, y, n] {
            std::vector<V>& p = *params;
            const V h1 = ag::relu(ag::matmul(x, p[0]) + p[1]);
            const V h2 = ag::relu(ag::matmul(h1, p[2]) + p[3]);
            const V logits = ag::matmul(h2, p[4]) + p[5];
            const V loss = -ag::sum(y * ag::log_softmax(logits)) / static_cast<float>(n);
            ag::backward(loss);
            sgd(p, 0.01f);
          },
          1};
}

namespace {

struct Mlp : ag::nn::Module<float> {
  std::shared_ptr<ag::nn::Linear<float>> fc1, fc2, fc3;
  explicit Mlp(ag::nn::Generator& g) {
    fc1 = register_module("fc1", ag::nn::linear<float>(784, 256, {.init = ag::nn::Init::he, .generator = &g}));
    fc2 = register_module("fc2", ag::nn::linear<float>(256, 128, {.init = ag::nn::Init::he, .generator = &g}));
    fc3 = register_module("fc3", ag::nn::linear<float>(128, 10, {.init = ag::nn::Init::xavier, .generator = &g}));
  }
  V forward(const V& x) { return fc3->forward(ag::relu(fc2->forward(ag::relu(fc1->forward(x))))); }
};

// One training step: forward, softmax cross-entropy, backward, Adam.
void adam_step(Mlp& model, ag::nn::Adam<float>& adam, const V& x, const std::vector<std::size_t>& labels) {
  const V loss = ag::nn::softmax_cross_entropy(model.forward(x), labels);
  adam.zero_grad();
  ag::backward(loss);
  adam.step();
}

}  // namespace

Workload mlp_adam_step(int batch) {
  auto generator = std::make_shared<ag::nn::Generator>(7);
  auto model = std::make_shared<Mlp>(*generator);
  auto adam = std::make_shared<ag::nn::Adam<float>>(model->parameters(), ag::nn::AdamOptions{.lr = 1e-3});
  std::mt19937 rng(7);
  const auto n = static_cast<std::size_t>(batch);
  const V x(random_tensor({n, 784}, 1.0f, rng));
  std::vector<std::size_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = i % 10;
  return {[generator, model, adam, x, labels] { adam_step(*model, *adam, x, labels); }, 1};
}

namespace {

// A tensor of `shape` holding shared_uniform's values (workloads.hpp): what the libtorch twin holds.
T shared_tensor(const ag::Shape& shape, float lo, float hi, std::uint32_t seed) {
  T t = T::from_shape(shape);
  const std::vector<float> values = shared_uniform(t.size(), lo, hi, seed);
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}

struct SparseAutoEncoder {
  using S = SparseAutoEncoderSetup;
  ag::nn::Generator generator{7};
  ag::nn::AutoEncoder<float> ae{S::inputs, S::hidden, {.generator = &generator}};  // sigmoid/sigmoid, untied
  ag::nn::SGD<float> sgd{ae.parameters(), {.lr = S::lr}};
  V x;

  explicit SparseAutoEncoder(std::size_t batch)
      : x(shared_tensor({batch, static_cast<std::size_t>(S::inputs)}, 0.0f, 1.0f, S::x_seed)) {
    // The library's Xavier draw, replaced by the same draw from the shared generator: both engines
    // then start from the same weights (biases are 0 in both) and their objectives can be compared.
    const auto in = static_cast<std::size_t>(S::inputs), hidden = static_cast<std::size_t>(S::hidden);
    const float a = S::xavier_limit();
    for (auto& [name, p] : ae.named_parameters()) {
      if (name == "encoder.weight") p.mutable_value() = shared_tensor({in, hidden}, -a, a, S::w1_seed);
      if (name == "decoder.weight") p.mutable_value() = shared_tensor({hidden, in}, -a, a, S::w2_seed);
    }
  }

  ag::nn::SparseObjective<float> objective() {
    const auto pass = ae.pass(x);
    return ag::nn::sparse_autoencoder_objective(pass, x, ae.weights(),
                                                {.rho = S::rho, .beta = S::beta, .weight_decay = S::weight_decay});
  }

  void step() {
    const auto j = objective();
    sgd.zero_grad();
    ag::backward(j.total);
    sgd.step();
  }
};

}  // namespace

Workload sparse_autoencoder_step(int batch) {
  auto state = std::make_shared<SparseAutoEncoder>(static_cast<std::size_t>(batch));
  return {[state] { state->step(); }, 1,
          [state] {
            ag::NoGrad no_grad;
            return static_cast<double>(state->objective().total.item());
          }};
}

namespace {

// The LeNet-like network of workloads.hpp with plain ops, as a user writes it without nn's modules.
struct LeNet {
  using S = LeNetSetup;
  static constexpr std::size_t c1 = S::channels1, c2 = S::channels2, k = S::kernel;
  V w1, b1, w2, b2, w3, b3;
  ag::nn::SGD<float> sgd;

  LeNet()
      : w1(shared_tensor({c1, 1, k, k}, -S::conv1_limit(), S::conv1_limit(), S::w1_seed), true),
        b1(ag::full<float>({c1}, 0.0f), true),
        w2(shared_tensor({c2, c1, k, k}, -S::conv2_limit(), S::conv2_limit(), S::w2_seed), true),
        b2(ag::full<float>({c2}, 0.0f), true),
        w3(shared_tensor({S::features, S::classes}, -S::linear_limit(), S::linear_limit(), S::w3_seed), true),
        b3(ag::full<float>({S::classes}, 0.0f), true),
        sgd({w1, b1, w2, b2, w3, b3}, {.lr = S::lr}) {}

  V loss(const V& x, const std::vector<std::size_t>& labels) const {
    const ag::Conv2dOptions same{.padding = {S::padding, S::padding}};
    const ag::Pool2dOptions pool{.kernel = {2, 2}};
    V h = ag::max_pool2d(ag::relu(ag::conv2d(x, w1, b1, same)), pool);
    h = ag::max_pool2d(ag::relu(ag::conv2d(h, w2, b2, same)), pool);
    const V logits = ag::matmul(ag::reshape(h, {-1, S::features}), w3) + b3;
    return ag::nn::softmax_cross_entropy(logits, labels);
  }

  void step(const V& x, const std::vector<std::size_t>& labels) {
    const V j = loss(x, labels);
    sgd.zero_grad();
    ag::backward(j);
    sgd.step();
  }
};

struct ConvLayer {
  V x, w, r;
  std::vector<V> grads;  // of x and w, from the last run

  ConvLayer(std::size_t batch, std::size_t in, std::size_t out, std::size_t side)
      : x(shared_tensor({batch, in, side, side}, 0.0f, 1.0f, ConvLayerSetup::x_seed), true),
        w(shared_tensor({out, in, 3, 3}, 0.0f, static_cast<float>(1 / std::sqrt(static_cast<double>(in) * 9)),
                        ConvLayerSetup::w_seed),
          true),
        r(shared_tensor({batch, out, side, side}, 0.0f, 1.0f, ConvLayerSetup::r_seed)) {}

  V reduction() const { return ag::sum(ag::conv2d(x, w, {.padding = {1, 1}}) * r); }
};

}  // namespace

Workload lenet_step(int batch) {
  using S = LeNetSetup;
  auto model = std::make_shared<LeNet>();
  const auto n = static_cast<std::size_t>(batch), side = static_cast<std::size_t>(S::side);
  const V x(shared_tensor({n, 1, side, side}, 0.0f, 1.0f, S::x_seed));
  std::vector<std::size_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = i % S::classes;
  return {[model, x, labels] { model->step(x, labels); }, 1,
          [model, x, labels] {
            ag::NoGrad no_grad;
            return static_cast<double>(model->loss(x, labels).item());
          }};
}

Workload conv_layer(int batch, int in_channels, int out_channels, int side) {
  auto layer = std::make_shared<ConvLayer>(static_cast<std::size_t>(batch), static_cast<std::size_t>(in_channels),
                                           static_cast<std::size_t>(out_channels), static_cast<std::size_t>(side));
  return {[layer] {
            layer->grads = ag::grad(layer->reduction(), {layer->x, layer->w});
          },
          1,
          [layer] {
            ag::NoGrad no_grad;
            auto figure = static_cast<double>(layer->reduction().item());
            for (const V& g : layer->grads) figure += static_cast<double>(ag::sum(g).item());
            return figure;
          }};
}

namespace {

// The RBM of rbm_cd1_step as a user writes it with nn::Rbm and nn's CD loss; only the Bernoulli
// draws read the pre-drawn uniforms (a unit is on where u < p) instead of a Generator.
struct RbmCd1 {
  using S = RbmSetup;
  static constexpr std::size_t visible = S::visible, hidden = S::hidden;
  ag::nn::Rbm<float> rbm{visible, hidden, {.weight_scale = 0}};  // W replaced by the shared draw below
  ag::nn::SGD<float> sgd{rbm.parameters(), {.lr = S::lr, .momentum = S::momentum}};
  T data;
  V u_hidden, u_visible;

  explicit RbmCd1(std::size_t batch)
      : data(shared_tensor({batch, visible}, 0.0f, 1.0f, S::data_seed)),
        u_hidden(shared_tensor({batch, hidden}, 0.0f, 1.0f, S::hidden_uniform_seed)),
        u_visible(shared_tensor({batch, visible}, 0.0f, 1.0f, S::visible_uniform_seed)) {
    for (float& x : data) x = x < static_cast<float>(S::density) ? 1.0f : 0.0f;
    rbm.weight().mutable_value() = shared_tensor({visible, hidden}, -S::weight_limit(), S::weight_limit(), S::w_seed);
  }

  // v1: one block Gibbs step from the data, h ~ p(h | v0), v1 ~ p(v | h).
  T negative() {
    ag::NoGrad no_grad;
    const V h = ag::lt(u_hidden, rbm.hidden_probability(V(data)));
    return ag::lt(u_visible, rbm.visible_probability(h)).value();
  }

  V loss() { return ag::nn::contrastive_divergence_loss(rbm, data, negative()); }

  void step() {
    const V l = loss();
    sgd.zero_grad();
    ag::backward(l);
    sgd.step();
  }
};

}  // namespace

Workload rbm_cd1_step(int batch) {
  auto state = std::make_shared<RbmCd1>(static_cast<std::size_t>(batch));
  return {[state] { state->step(); }, 1,
          [state] {
            ag::NoGrad no_grad;
            return static_cast<double>(state->loss().item());
          }};
}

namespace {

Workload sgemm(int n) {
  auto a = std::make_shared<std::vector<float>>(static_cast<std::size_t>(n) * n, 0.5f);
  auto b = std::make_shared<std::vector<float>>(static_cast<std::size_t>(n) * n, 0.25f);
  auto c = std::make_shared<std::vector<float>>(static_cast<std::size_t>(n) * n);
  return {[=] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a->data(), n, b->data(), n, 0.0f,
                        c->data(), n);
          },
          1};
}

struct Product {
  bool ta, tb;
  int m, n, k;
};

// These matrix products through CBLAS, as the engine calls them (transposes as BLAS flags), and
// nothing else: the floor under a step's time, which the other work adds to.
Workload products_only(const std::vector<Product>& products) {
  auto buffers = std::make_shared<std::vector<std::vector<float>>>();
  for (const Product& p : products) {
    buffers->emplace_back(static_cast<std::size_t>(p.m) * p.k, 0.5f);
    buffers->emplace_back(static_cast<std::size_t>(p.k) * p.n, 0.25f);
    buffers->emplace_back(static_cast<std::size_t>(p.m) * p.n);
  }
  return {[products, buffers] {
            for (std::size_t i = 0; i < products.size(); ++i) {
              const Product& p = products[i];
              std::vector<float>* abc = buffers->data() + 3 * i;
              cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n,
                          p.k, 1.0f, abc[0].data(), p.ta ? p.m : p.k, abc[1].data(), p.tb ? p.k : p.n, 0.0f,
                          abc[2].data(), p.n);
            }
          },
          1};
}

// The eight matrix products of one MLP step at `batch`.
Workload mlp_products(int batch) {
  const int b = batch;
  // The forward's three, then the backward's: each layer's weight gradient, and the input gradient
  // of every layer but the first.
  return products_only({{false, false, b, 256, 784},
                        {false, false, b, 128, 256},
                        {false, false, b, 10, 128},
                        {true, false, 128, 10, b},
                        {false, true, b, 128, 10},
                        {true, false, 256, 128, b},
                        {false, true, b, 256, 128},
                        {true, false, 784, 256, b}});
}

// The five matrix products of one sparse auto-encoder step at `batch` (x needs no gradient).
Workload autoencoder_products(int batch) {
  const int b = batch, in = SparseAutoEncoderSetup::inputs, hidden = SparseAutoEncoderSetup::hidden;
  // The forward's two, then the backward's: the decoder's weight gradient, the hidden units'
  // gradient, the encoder's weight gradient.
  return products_only({{false, false, b, hidden, in},
                        {false, false, b, in, hidden},
                        {true, false, hidden, in, b},
                        {false, true, b, hidden, in},
                        {true, false, in, hidden, b}});
}

}  // namespace

void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count) {
  ag::nn::Generator generator(7);
  Mlp model(generator);
  ag::nn::Adam<float> adam(model.parameters(), {.lr = 1e-3});
  const ag::nn::Batches batches(count, 64, true, generator);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto rows = batches[b];
    T x = T::from_shape({rows.size(), 784});
    std::vector<std::size_t> y;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(images + rows[i] * 784, 784, x.data() + i * 784);
      y.push_back(labels[rows[i]]);
    }
    adam_step(model, adam, V(std::move(x)), y);
  }
}

void lenet_epoch(const float* images, const std::size_t* labels, std::size_t count) {
  using S = LeNetSetup;
  ag::nn::Generator generator(7);
  LeNet model;
  const auto side = static_cast<std::size_t>(S::side), pixels = side * side;
  const ag::nn::Batches batches(count, 64, true, generator);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto rows = batches[b];
    T x = T::from_shape({rows.size(), 1, side, side});
    std::vector<std::size_t> y;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(images + rows[i] * pixels, pixels, x.data() + i * pixels);
      y.push_back(labels[rows[i]]);
    }
    model.step(V(std::move(x)), y);
  }
}

const char* engine_name() {
  return "autograd";
}

void set_threads(int threads) {
  ag::set_num_threads(threads);
}

std::vector<NamedWorkload> engine_only_workloads() {
  return {
      {"mlp_products_only_batch256", [] { return mlp_products(256); }},
      {"autoencoder_products_only_batch256", [] { return autoencoder_products(256); }},
      {"sgemm_1024", [] { return sgemm(1024); }},
  };
}

}  // namespace bench
