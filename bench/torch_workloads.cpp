// libtorch's side of the benchmark (workloads.hpp): the twins of autograd_workloads.cpp, the same
// computations as a libtorch user writes them. Compiled at the C++ standard libtorch was built for.
#include <torch/torch.h>

#include <string>

#include "workloads.hpp"

// libtorch links OpenBLAS, so its symbols are there.
extern "C" void openblas_set_num_threads(int);

namespace bench {

namespace {

void sgd(std::vector<torch::Tensor>& params, double lr) {
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    p.sub_(lr * p.grad());
    p.mutable_grad().reset();
  }
}

}  // namespace

Workload course_step() {
  auto params = std::make_shared<std::vector<torch::Tensor>>(
      std::vector<torch::Tensor>{torch::tensor({{0.5f, -1.0f}, {1.5f, -2.0f}}).requires_grad_(),
                                 torch::tensor({{1.0f, -1.0f}, {3.0f, -4.0f}}).requires_grad_(),
                                 torch::tensor({{1.0f}, {-3.0f}}).requires_grad_()});
  const auto x = torch::tensor({{2.0f, -1.0f}}), y = torch::tensor({{1.0f}});
  return {[params, x, y] {
            auto& p = *params;
            auto logit = torch::sigmoid(torch::sigmoid(x.mm(p[0])).mm(p[1])).mm(p[2]);
            auto loss = torch::binary_cross_entropy_with_logits(logit, y);
            loss.backward();
            sgd(p, 0.2);
          },
          1};
}

Workload scalar_chain(int ops) {
  const auto x = torch::tensor(1.0f).requires_grad_(), w = torch::tensor(0.999f).requires_grad_(),
             b = torch::tensor(0.001f).requires_grad_();
  return {[=] {
            torch::Tensor y = x;
            for (int i = 0; i < ops; ++i) y = (i % 2 == 0) ? y * w : y + b;
            y.backward();
            for (auto v : {x, w, b}) v.mutable_grad().reset();
          },
          static_cast<double>(ops)};
}

Workload mlp_sgd_step(int batch) {
  torch::manual_seed(7);
  auto params = std::make_shared<std::vector<torch::Tensor>>();
  const int sizes[] = {784, 256, 128, 10};
  for (int l = 0; l < 3; ++l) {
    params->push_back((torch::randn({sizes[l], sizes[l + 1]}) * std::sqrt(2.0 / sizes[l])).requires_grad_());
    params->push_back(torch::zeros({sizes[l + 1]}).requires_grad_());
  }
  const auto x = torch::randn({batch, 784});
  const auto labels = torch::arange(batch) % 10;
  return {[params, x, labels] {
            auto& p = *params;
            auto h1 = torch::relu(torch::addmm(p[1], x, p[0]));
            auto h2 = torch::relu(torch::addmm(p[3], h1, p[2]));
            auto logits = torch::addmm(p[5], h2, p[4]);
            auto loss = torch::nn::functional::cross_entropy(logits, labels);
            loss.backward();
            sgd(p, 0.01);
          },
          1};
}

namespace {

struct TorchMlp : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  TorchMlp() {
    fc1 = register_module("fc1", torch::nn::Linear(784, 256));
    fc2 = register_module("fc2", torch::nn::Linear(256, 128));
    fc3 = register_module("fc3", torch::nn::Linear(128, 10));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc3(torch::relu(fc2(torch::relu(fc1(x))))); }
};

void torch_adam_step(TorchMlp& model, torch::optim::Adam& adam, const torch::Tensor& x, const torch::Tensor& labels) {
  auto loss = torch::nn::functional::cross_entropy(model.forward(x), labels);
  adam.zero_grad();
  loss.backward();
  adam.step();
}

}  // namespace

Workload mlp_adam_step(int batch) {
  torch::manual_seed(7);
  auto model = std::make_shared<TorchMlp>();
  auto adam = std::make_shared<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto x = torch::randn({batch, 784});
  const auto labels = torch::arange(batch) % 10;
  return {[model, adam, x, labels] { torch_adam_step(*model, *adam, x, labels); }, 1};
}

namespace {

// A tensor of `shape` holding shared_uniform's values (workloads.hpp), as this engine's twin holds.
torch::Tensor shared_tensor(std::vector<long> shape, float lo, float hi, std::uint32_t seed) {
  long count = 1;
  for (long d : shape) count *= d;
  auto values = shared_uniform(static_cast<std::size_t>(count), lo, hi, seed);
  return torch::from_blob(values.data(), shape).clone();
}

struct TorchSparseAutoEncoder {
  using S = SparseAutoEncoderSetup;
  torch::Tensor w1, b1, w2, b2, x;  // W [in, out], as in this engine's twin: x W + b is addmm(b, x, W)
  std::unique_ptr<torch::optim::SGD> sgd;

  explicit TorchSparseAutoEncoder(long batch) {
    const float a = S::xavier_limit();
    w1 = shared_tensor({S::inputs, S::hidden}, -a, a, S::w1_seed).requires_grad_();
    b1 = torch::zeros({S::hidden}).requires_grad_();
    w2 = shared_tensor({S::hidden, S::inputs}, -a, a, S::w2_seed).requires_grad_();
    b2 = torch::zeros({S::inputs}).requires_grad_();
    x = shared_tensor({batch, S::inputs}, 0.0f, 1.0f, S::x_seed);
    sgd = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{w1, b1, w2, b2},
                                              torch::optim::SGDOptions(S::lr));
  }

  torch::Tensor objective() {
    const auto hidden = torch::sigmoid(torch::addmm(b1, x, w1));
    const auto output = torch::sigmoid(torch::addmm(b2, hidden, w2));
    const auto error = torch::mse_loss(output, x, at::Reduction::Sum) / x.size(0);
    const auto rho_hat = hidden.mean(0);
    const double rho = S::rho;
    const auto kl = (rho * torch::log(rho / rho_hat) + (1 - rho) * torch::log((1 - rho) / (1 - rho_hat))).sum();
    const auto decay = (S::weight_decay / 2) * (w1.pow(2).sum() + w2.pow(2).sum());
    return error + S::beta * kl + decay;
  }

  void step() {
    auto j = objective();
    sgd->zero_grad();
    j.backward();
    sgd->step();
  }
};

}  // namespace

Workload sparse_autoencoder_step(int batch) {
  auto state = std::make_shared<TorchSparseAutoEncoder>(batch);
  return {[state] { state->step(); }, 1,
          [state] {
            torch::NoGradGuard no_grad;
            return state->objective().item<double>();
          }};
}

namespace {

// The LeNet-like network of workloads.hpp with torch's functional ops on tensors drawn as this
// engine's twin draws them; torch::conv2d adds the bias itself.
struct TorchLeNet {
  using S = LeNetSetup;
  torch::Tensor w1, b1, w2, b2, w3, b3;
  std::unique_ptr<torch::optim::SGD> sgd;

  TorchLeNet() {
    const float a1 = S::conv1_limit(), a2 = S::conv2_limit(), a3 = S::linear_limit();
    w1 = shared_tensor({S::channels1, 1, S::kernel, S::kernel}, -a1, a1, S::w1_seed).requires_grad_();
    b1 = torch::zeros({S::channels1}).requires_grad_();
    w2 = shared_tensor({S::channels2, S::channels1, S::kernel, S::kernel}, -a2, a2, S::w2_seed).requires_grad_();
    b2 = torch::zeros({S::channels2}).requires_grad_();
    w3 = shared_tensor({S::features, S::classes}, -a3, a3, S::w3_seed).requires_grad_();
    b3 = torch::zeros({S::classes}).requires_grad_();
    sgd = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{w1, b1, w2, b2, w3, b3},
                                              torch::optim::SGDOptions(S::lr));
  }

  torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& labels) {
    auto h = torch::max_pool2d(torch::relu(torch::conv2d(x, w1, b1, 1, S::padding)), 2);
    h = torch::max_pool2d(torch::relu(torch::conv2d(h, w2, b2, 1, S::padding)), 2);
    const auto logits = torch::addmm(b3, h.flatten(1), w3);
    return torch::nn::functional::cross_entropy(logits, labels);
  }

  void step(const torch::Tensor& x, const torch::Tensor& labels) {
    auto j = loss(x, labels);
    sgd->zero_grad();
    j.backward();
    sgd->step();
  }
};

struct TorchConvLayer {
  torch::Tensor x, w, r;
  std::vector<torch::Tensor> grads;  // of x and w, from the last run

  TorchConvLayer(long batch, long in, long out, long side) {
    using S = ConvLayerSetup;
    const auto limit = static_cast<float>(1 / std::sqrt(in * 9.0));
    x = shared_tensor({batch, in, side, side}, 0.0f, 1.0f, S::x_seed).requires_grad_();
    w = shared_tensor({out, in, 3, 3}, 0.0f, limit, S::w_seed).requires_grad_();
    r = shared_tensor({batch, out, side, side}, 0.0f, 1.0f, S::r_seed);
  }

  torch::Tensor reduction() { return (torch::conv2d(x, w, {}, 1, 1) * r).sum(); }
};

}  // namespace

Workload lenet_step(int batch) {
  using S = LeNetSetup;
  auto model = std::make_shared<TorchLeNet>();
  const auto x = shared_tensor({batch, 1, S::side, S::side}, 0.0f, 1.0f, S::x_seed);
  const auto labels = torch::arange(batch) % S::classes;
  return {[model, x, labels] { model->step(x, labels); }, 1,
          [model, x, labels] {
            torch::NoGradGuard no_grad;
            return model->loss(x, labels).item<double>();
          }};
}

Workload conv_layer(int batch, int in_channels, int out_channels, int side) {
  auto layer = std::make_shared<TorchConvLayer>(batch, in_channels, out_channels, side);
  return {[layer] {
            layer->grads = torch::autograd::grad({layer->reduction()}, {layer->x, layer->w});
          },
          1,
          [layer] {
            torch::NoGradGuard no_grad;
            double figure = layer->reduction().item<double>();
            for (const auto& g : layer->grads) figure += g.sum().item<double>();
            return figure;
          }};
}

namespace {

// The twin of this engine's RBM: the free energy in torch ops, the loss through torch's autograd,
// torch::optim::SGD with momentum; the same pre-drawn uniforms for the Bernoulli draws.
struct TorchRbmCd1 {
  using S = RbmSetup;
  torch::Tensor w, b, c, data, u_hidden, u_visible;  // W [visible, hidden]
  std::unique_ptr<torch::optim::SGD> sgd;

  explicit TorchRbmCd1(long batch) {
    w = shared_tensor({S::visible, S::hidden}, -S::weight_limit(), S::weight_limit(), S::w_seed).requires_grad_();
    b = torch::zeros({S::visible}).requires_grad_();
    c = torch::zeros({S::hidden}).requires_grad_();
    data = (shared_tensor({batch, S::visible}, 0.0f, 1.0f, S::data_seed) < S::density).to(torch::kFloat);
    u_hidden = shared_tensor({batch, S::hidden}, 0.0f, 1.0f, S::hidden_uniform_seed);
    u_visible = shared_tensor({batch, S::visible}, 0.0f, 1.0f, S::visible_uniform_seed);
    sgd = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{w, b, c},
                                              torch::optim::SGDOptions(S::lr).momentum(S::momentum));
  }

  // F(v) per row: -v b - sum_j softplus(c_j + (v W)_j).
  torch::Tensor free_energy(const torch::Tensor& v) { return -v.mv(b) - torch::softplus(torch::addmm(c, v, w)).sum(1); }

  // v1: one block Gibbs step from the data, h ~ p(h | v0), v1 ~ p(v | h).
  torch::Tensor negative() {
    torch::NoGradGuard no_grad;
    const auto h = (u_hidden < torch::sigmoid(torch::addmm(c, data, w))).to(torch::kFloat);
    return (u_visible < torch::sigmoid(torch::addmm(b, h, w.t()))).to(torch::kFloat);
  }

  torch::Tensor loss() { return free_energy(data).mean() - free_energy(negative().detach()).mean(); }

  void step() {
    auto l = loss();
    sgd->zero_grad();
    l.backward();
    sgd->step();
  }
};

}  // namespace

Workload rbm_cd1_step(int batch) {
  auto state = std::make_shared<TorchRbmCd1>(batch);
  return {[state] { state->step(); }, 1,
          [state] {
            torch::NoGradGuard no_grad;
            return state->loss().item<double>();
          }};
}

void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count) {
  torch::manual_seed(7);
  TorchMlp model;
  torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(1e-3));
  // The images stay where they are (a view, not a copy): index_select copies each batch out.
  const auto all_images = torch::from_blob(const_cast<float*>(images), {static_cast<long>(count), 784});
  std::vector<long> label_values(labels, labels + count);
  const auto all_labels = torch::tensor(label_values);
  const auto order = torch::randperm(static_cast<long>(count));
  for (long begin = 0; begin < static_cast<long>(count); begin += 64) {
    const auto rows = order.slice(0, begin, std::min<long>(begin + 64, static_cast<long>(count)));
    torch_adam_step(model, adam, all_images.index_select(0, rows), all_labels.index_select(0, rows));
  }
}

void lenet_epoch(const float* images, const std::size_t* labels, std::size_t count) {
  using S = LeNetSetup;
  torch::manual_seed(7);
  TorchLeNet model;
  const auto n = static_cast<long>(count);
  const auto all_images = torch::from_blob(const_cast<float*>(images), {n, 1, S::side, S::side});
  std::vector<long> label_values(labels, labels + count);
  const auto all_labels = torch::tensor(label_values);
  const auto order = torch::randperm(n);
  for (long begin = 0; begin < n; begin += 64) {
    const auto rows = order.slice(0, begin, std::min<long>(begin + 64, n));
    model.step(all_images.index_select(0, rows), all_labels.index_select(0, rows));
  }
}

const char* engine_name() {
  return "libtorch";
}

// torch::set_num_threads sizes libtorch's own pool; OpenBLAS is told separately (it does not
// follow), as a user who wants N threads must.
void set_threads(int threads) {
  torch::set_num_threads(threads);
  openblas_set_num_threads(threads);
}

std::vector<NamedWorkload> engine_only_workloads() {
  return {};
}

}  // namespace bench
