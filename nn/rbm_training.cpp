#include "nn/rbm_training.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <xtensor/xview.hpp>

#include "autograd/instantiate.hpp"
#include "nn/io/data.hpp"
#include "nn/rbm_estimates.hpp"
#include "nn/train/progress.hpp"

namespace ag::nn {

template <class T>
std::vector<RbmEpoch> train_rbm(Rbm<T>& rbm, const Tensor<T>& data, const RbmTraining& options, Generator& generator,
                                const std::function<void(const RbmEpoch&)>& on_epoch) {
  check_rows("train_rbm", rbm, data);
  if (options.batch_size == 0) throw std::invalid_argument("train_rbm: batch_size = 0 (it must be at least 1)");
  if (options.k == 0) throw std::invalid_argument("train_rbm: k = 0 Gibbs steps (it must be at least 1)");
  const std::size_t n = data.shape()[0];
  if (options.base_rate_visible_bias && options.epochs > 0) rbm.visible_bias().mutable_value() = base_rate_bias(data);
  SGD<T> sgd(rbm.parameters(), options.sgd);  // checks the SGD options
  std::optional<PersistentChain<T>> chain;
  if (options.persistent) chain.emplace(options.batch_size, rbm.visible(), generator);
  const std::size_t monitored = options.monitor_rows == 0 ? n : std::min(n, options.monitor_rows);
  const Tensor<T> monitor = xt::view(data, xt::range(0, monitored), xt::all());
  const auto units = static_cast<double>(rbm.visible());
  // The pseudo-likelihood flips v_i to 1 - v_i: it is defined for binary rows only.
  const bool binary = std::all_of(monitor.begin(), monitor.end(), [](T x) { return x == T(0) || x == T(1); });

  std::vector<RbmEpoch> records;
  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const Batches batches(n, options.batch_size, true, generator);
    std::unique_ptr<ProgressBar> bar;
    if (options.progress) bar = std::make_unique<ProgressBar>(epoch, options.epochs, batches.size(), options.progress);
    double loss_sum = 0, difference_sum = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      const Tensor<T> batch = select_rows(data, rows);
      const ContrastiveDivergence<T> cd =
          options.persistent ? persistent_contrastive_divergence(rbm, batch, *chain, options.k, generator)
                             : contrastive_divergence(rbm, batch, options.k, generator);
      sgd.zero_grad();
      backward(cd.loss);
      sgd.step();
      const auto weight = static_cast<double>(rows.size());
      seen += rows.size();
      loss_sum += weight * static_cast<double>(cd.loss.item());
      if (bar) {
        // The batch against its negative samples (M rows, M = the batch's size for CD-k, the
        // particles' count for PCD): the mean squared difference per unit, scaled to the batch.
        const double d =
            options.persistent
                ? static_cast<double>(xt::mean(xt::square(xt::mean(batch, {0}) - xt::mean(cd.negative, {0})))())
                : static_cast<double>(xt::mean(xt::square(batch - cd.negative))());
        difference_sum += weight * d;
        const auto so_far = static_cast<double>(seen);
        bar->update(b + 1, seen, loss_sum / so_far, difference_sum / so_far);
      }
    }
    RbmEpoch r{epoch, loss_sum / static_cast<double>(seen), 0, 0, 0};
    r.reconstruction_error = reconstruction_error(rbm, monitor);
    r.pseudo_log_likelihood = !binary ? std::numeric_limits<double>::quiet_NaN()
                              : options.exact_pseudo_likelihood
                                  ? pseudo_log_likelihood(rbm, monitor)
                                  : stochastic_pseudo_log_likelihood(rbm, monitor, generator);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (bar) {
      bar->finish(fmt::format("  reconstruction error {:.3f} ({:.4f} a unit)  pseudo-log-likelihood {}",
                              r.reconstruction_error, r.reconstruction_error / units,
                              binary ? fmt::format("{:.2f}", r.pseudo_log_likelihood) : "n/a (data not binary)"));
    }
    records.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  return records;
}

#define AG_NN_RBM_TRAINING(T)                                                                         \
  template std::vector<RbmEpoch> train_rbm(Rbm<T>&, const Tensor<T>&, const RbmTraining&, Generator&, \
                                           const std::function<void(const RbmEpoch&)>&);
AG_INSTANTIATE(AG_NN_RBM_TRAINING)

}  // namespace ag::nn
