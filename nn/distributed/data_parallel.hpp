// Data-parallel training over MPI: every rank holds the whole model, computes the gradient of the
// mean loss over its share of each global batch (sharding.hpp), and the ranks average their
// gradients before each optimizer step, so that every rank takes the step one process would take
// on the whole batch, and the parameters stay identical on all ranks.
//
//   distributed::Environment mpi(argc, argv);
//   const distributed::Communicator world = mpi.world();
//   distributed::broadcast_parameters(world, model.parameters());    // rank 0's start, everywhere
//   distributed::GradientAverager<float> averager(world, model.parameters());
//   nn::Adam<float> adam(model.parameters(), {.lr = 1e-3});          // built alike on every rank
//   distributed::broadcast_optimizer_state(world, adam);             // rank 0's moments and steps
//   const distributed::ShardedBatches batches(nn::Batches(n, 64, true, generator), world);
//   for (std::size_t b = 0; b < batches.size(); ++b) {
//     const auto rows = batches[b];                                  // this rank's share, maybe none
//     adam.zero_grad();
//     if (!rows.empty()) ag::backward(mean_loss_over(rows));
//     averager.average(rows.size());                                 // one MPI_Allreduce
//     adam.step();
//   }
//
// The gradients travel in one MPI_Allreduce per step, over one flat buffer of every gradient,
// after backward has finished: no buckets overlapping backward (an MLP's backward is a millisecond,
// shorter than the bookkeeping that overlap would need). bytes_per_step() says what it moves.
//
// The optimizers: built on every rank after broadcast_parameters, their state (SGD's velocities,
// Adam's moments and step count) starts at zero everywhere, and the same averaged gradients keep it
// the same on every rank (the tests check the parameters after every step). A state restored on
// rank 0 only (resuming) reaches the others through broadcast_optimizer_state.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nn/distributed/mpi.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace ag::nn::distributed {

// Collective: throws std::invalid_argument on every rank unless all ranks of `comm` hold as many
// parameters as each other, with the same shapes in the same order (compared through their
// minimum and maximum over the ranks, so a mismatch is an error, never a collective of mismatched
// sizes that hangs or mixes unrelated numbers). `what` names the caller in the message.
template <class T>
void check_same_parameters(const Communicator& comm, const std::vector<Variable<T>>& parameters, const char* what);

// Collective: every rank's parameters take rank `root`'s values (one MPI_Bcast per parameter),
// after check_same_parameters.
template <class T>
void broadcast_parameters(const Communicator& comm, const std::vector<Variable<T>>& parameters, int root = 0);

// Collective: every rank's optimizer state (Optimizer::state_tensors and step_count) takes rank
// `root`'s, in one MPI_Bcast of every state tensor packed together and one of the step count.
// Before any of it, the ranks compare how many state tensors they hold, their sizes and shapes, as
// check_same_parameters does: a mismatch (another optimizer, another model, SGD with momentum on
// one rank only) throws std::invalid_argument on every rank. The optimizer's parameters are not
// touched: broadcast_parameters does those.
template <class T>
void broadcast_optimizer_state(const Communicator& comm, Optimizer<T>& optimizer, int root = 0);

// Averages the parameters' gradients over the ranks, weighting each rank by the rows its gradient
// is the mean over, so that the result is the gradient of the mean loss over the whole global
// batch however it was split. Built on every rank with the same parameters (checked).
template <class T>
class GradientAverager {
 public:
  // Collective (check_same_parameters).
  GradientAverager(const Communicator& comm, std::vector<Variable<T>> parameters);

  // Collective: one MPI_Allreduce. `rows`: how many examples this rank's gradients are the mean
  // over (0 when it had none and ran no backward: its gradients, if any, are then ignored).
  // Afterwards every rank holds, in each parameter's .grad(), sum_r rows_r g_r / sum_r rows_r;
  // a parameter that received no gradient on any rank keeps none (as one process would leave it).
  // `totals` are summed over the ranks in the same call (a batch's summed loss and correct
  // predictions, say), in T's precision. A gradient whose shape is not its parameter's, or an
  // error of MPI, throws on this rank only: run the training in run_or_abort.
  void average(std::size_t rows, std::span<T> totals = {});

  // Bytes each rank hands MPI_Allreduce per step: the gradients, one number per parameter tensor
  // (whether this rank has its gradient), the row count and `totals` numbers.
  std::size_t bytes_per_step(std::size_t totals = 0) const;

 private:
  const Communicator comm_;
  std::vector<Variable<T>> parameters_;
  std::vector<Shape> shapes_;
  std::size_t elements_ = 0;
  std::vector<T> buffer_;
};

// Collective: rank 0 saves `module` to `path` (nn::save: atomic, as ever); the other ranks write
// nothing and ignore their `path`. Every rank returns, or every rank throws CheckpointError with
// rank 0's reason.
template <class T>
void save_on_root(const Communicator& comm, const Module<T>& module, const std::string& path);

extern template class GradientAverager<float>;
extern template class GradientAverager<double>;

}  // namespace ag::nn::distributed
