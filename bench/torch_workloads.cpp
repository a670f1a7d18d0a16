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

void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count) {
  torch::manual_seed(7);
  TorchMlp model;
  torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(1e-3));
  const auto all_images = torch::from_blob(const_cast<float*>(images), {static_cast<long>(count), 784}).clone();
  std::vector<long> label_values(labels, labels + count);
  const auto all_labels = torch::tensor(label_values);
  const auto order = torch::randperm(static_cast<long>(count));
  for (long begin = 0; begin < static_cast<long>(count); begin += 64) {
    const auto rows = order.slice(0, begin, std::min<long>(begin + 64, static_cast<long>(count)));
    torch_adam_step(model, adam, all_images.index_select(0, rows), all_labels.index_select(0, rows));
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
