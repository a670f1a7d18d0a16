// Data-parallel training on 2 ranks (nn/distributed/data_parallel.hpp) against one process: the
// averaged gradient is the gradient of the whole batch's mean loss however the batch is split,
// N steps over the ranks end where one process's N steps end, the ranks hold identical
// parameters after every step, and models that differ between ranks are an error; an optimizer's
// state reaches every rank from rank 0, and states that differ in shape are an error.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nn/distributed/distributed.hpp>
#include <nn/nn.hpp>
#include <numeric>
#include <vector>

namespace nn = ag::nn;
namespace distributed = ag::nn::distributed;
using V = ag::Variable<float>;

namespace {

constexpr std::size_t kInputs = 12, kClasses = 4, kExamples = 23;

struct Mlp : nn::Layer<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2;
  Mlp(std::uint64_t seed, std::size_t hidden = 16) {
    nn::Generator g(seed);
    fc1 = register_module("fc1", nn::linear<float>(kInputs, hidden, {.init = nn::Init::he, .generator = &g}));
    fc2 = register_module("fc2", nn::linear<float>(hidden, kClasses, {.generator = &g}));
  }
  V forward(const V& x) override { return fc2->forward(ag::relu(fc1->forward(x))); }
};

// The same examples on every rank: drawn from one seed.
struct Data {
  ag::Tensor<float> x;
  std::vector<std::size_t> labels;
  Data() {
    nn::Generator g(3);
    x = g.normal<float>({kExamples, kInputs}, 0.0f, 1.0f);
    for (std::size_t i = 0; i < kExamples; ++i) labels.push_back((i * 7) % kClasses);
  }
};

V mean_loss(Mlp& model, const Data& data, const std::vector<std::size_t>& rows) {
  return nn::softmax_cross_entropy(model.forward(V(nn::select_rows(data.x, rows))), nn::select(data.labels, rows));
}

// How many numbers of `parameters` differ, in any bit, from rank 0's, summed over the ranks.
std::size_t differences_from_rank0(const distributed::Communicator& comm, const std::vector<V>& parameters) {
  double differing = 0;
  for (const V& p : parameters) {
    ag::Tensor<float> root = p.value();
    distributed::check_mpi(MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_FLOAT, 0, comm.handle()),
                           "MPI_Bcast");
    for (std::size_t i = 0; i < root.size(); ++i) {
      if (std::memcmp(root.data() + i, p.value().data() + i, sizeof(float)) != 0) differing += 1;
    }
  }
  std::vector<double> total{differing};
  comm.sum(total);
  return static_cast<std::size_t>(total[0]);
}

// The largest |a - b| / (1e-3 + |b|) over the parameters, a relative error that tolerates the
// rounding of numbers near zero.
double worst_error(const std::vector<V>& a, const std::vector<V>& b) {
  double worst = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const ag::Tensor<float>& x = a[k].value();
    const ag::Tensor<float>& y = b[k].value();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double d = std::abs(static_cast<double>(x.data()[i]) - y.data()[i]);
      worst = std::max(worst, d / (1e-3 + std::abs(static_cast<double>(y.data()[i]))));
    }
  }
  return worst;
}

std::vector<V> gradients(const std::vector<V>& parameters) {
  std::vector<V> out;
  for (const V& p : parameters) out.push_back(V(p.grad().value()));
  return out;
}

}  // namespace

TEST_CASE("the averaged gradient is the gradient of the whole batch's mean loss, however the batch is split") {
  const distributed::Communicator world;
  const Data data;
  Mlp model(1);
  distributed::GradientAverager<float> averager(world, model.parameters());
  // 7 rows split 3 and 4, 8 split 4 and 4, 1 split 0 and 1 (a rank without rows).
  for (const std::size_t batch : {7, 8, 1}) {
    std::vector<std::size_t> rows(batch);
    std::iota(rows.begin(), rows.end(), 5);
    const V whole = mean_loss(model, data, rows);
    model.zero_grad();
    ag::backward(whole);
    const std::vector<V> expected = gradients(model.parameters());

    const std::vector<std::size_t> mine = distributed::shard(rows, world.rank(), world.size());
    model.zero_grad();
    std::vector<float> totals{0.0f, 1.0f};
    if (!mine.empty()) {
      const V loss = mean_loss(model, data, mine);
      ag::backward(loss);
      totals[0] = loss.item() * static_cast<float>(mine.size());
    }
    averager.average(mine.size(), totals);
    CAPTURE(batch);
    // Float rounding only: one process's gradient and the ranks' weighted sum add the same
    // per-example terms in another order, each rounded to float (about 6e-8 relative); 1e-5
    // leaves room for that and is far below what a wrong weighting changes (for 3 and 4 rows,
    // an unweighted mean of the two ranks' means is off by several percent).
    CHECK(worst_error(gradients(model.parameters()), expected) < 1e-5);
    CHECK(totals[0] == doctest::Approx(whole.item() * static_cast<float>(batch)).epsilon(1e-5));
    CHECK(totals[1] == static_cast<float>(world.size()));
    CHECK(differences_from_rank0(world, gradients(model.parameters())) == 0);
  }
}

TEST_CASE("the average weights each rank by its rows, and a gradient no rank has stays undefined") {
  const distributed::Communicator world;
  const auto constant = [](float value) { return V(ag::Tensor<float>{value, value}); };
  V w(ag::Tensor<float>{0.0f, 0.0f}, true), q(ag::Tensor<float>{0.0f, 0.0f}, true),
      unused(ag::Tensor<float>{0.0f, 0.0f}, true);
  distributed::GradientAverager<float> averager(world, {w, q, unused});
  // Rank 0, 1 row: dw = 1, dq = 2. Rank 1, 3 rows: dw = 3, and q is not in its graph.
  if (world.rank() == 0) {
    ag::backward(ag::sum(w * constant(1)) + ag::sum(q * constant(2)));
    averager.average(1);
  } else {
    ag::backward(ag::sum(w * constant(3)));
    averager.average(3);
  }
  // (1 * 1 + 3 * 3) / 4 and (1 * 2 + 3 * 0) / 4, on both ranks, exactly.
  CHECK(w.grad().value() == ag::Tensor<float>{2.5f, 2.5f});
  CHECK(q.grad().defined());
  if (q.grad().defined()) CHECK(q.grad().value() == ag::Tensor<float>{0.5f, 0.5f});
  CHECK_FALSE(unused.grad().defined());
  // No rows anywhere: an error on every rank, not a division by zero.
  CHECK_THROWS_WITH_AS(averager.average(0), doctest::Contains("no rank had any rows"), std::invalid_argument);
}

namespace {

using MakeOptimizer = std::function<std::unique_ptr<nn::Optimizer<float>>(std::vector<V>)>;

// `epochs` epochs at global batch `batch` over kExamples examples: one process on the whole batch
// against the ranks each on its share, from the same start (rank 0's, broadcast). Checks that the
// ranks hold identical parameters after every step and returns the worst relative difference from
// one process at the end.
double train_against_one_process(const MakeOptimizer& make, std::size_t batch, std::size_t epochs) {
  const distributed::Communicator world;
  const Data data;
  Mlp one_process(1);
  Mlp replica(static_cast<std::uint64_t>(1 + world.rank()));  // rank 1 starts elsewhere, then takes rank 0's
  CHECK(differences_from_rank0(world, replica.parameters()) > 0);
  distributed::broadcast_parameters(world, replica.parameters());
  CHECK(differences_from_rank0(world, replica.parameters()) == 0);
  CHECK(worst_error(replica.parameters(), one_process.parameters()) == 0);

  distributed::GradientAverager<float> averager(world, replica.parameters());
  const auto reference = make(one_process.parameters());
  const auto optimizer = make(replica.parameters());
  nn::Generator shuffle_reference(9), shuffle_replica(9);
  std::size_t steps = 0, steps_apart = 0;
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    const nn::Batches batches(kExamples, batch, true, shuffle_reference);
    const distributed::ShardedBatches shares(nn::Batches(kExamples, batch, true, shuffle_replica), world);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      reference->zero_grad();
      ag::backward(mean_loss(one_process, data, batches[b]));
      reference->step();

      const std::vector<std::size_t> mine = shares[b];
      optimizer->zero_grad();
      if (!mine.empty()) ag::backward(mean_loss(replica, data, mine));
      averager.average(mine.size());
      optimizer->step();
      ++steps;
      if (differences_from_rank0(world, replica.parameters()) != 0) ++steps_apart;
    }
  }
  CHECK(steps == epochs * ((kExamples + batch - 1) / batch));
  CHECK(steps_apart == 0);
  return worst_error(replica.parameters(), one_process.parameters());
}

}  // namespace

TEST_CASE("N steps over 2 ranks end where one process's N steps end, the ranks identical after each") {
  // Batches of 7 over 23 examples: 7, 7, 7 and a short 2, split 3 + 4 and 1 + 1. Batches of 1: one
  // rank has no rows at every step.
  const MakeOptimizer sgd = [](std::vector<V> p) {
    return std::make_unique<nn::SGD<float>>(std::move(p), nn::SGDOptions{.lr = 0.1, .momentum = 0.9});
  };
  const MakeOptimizer adam = [](std::vector<V> p) {
    return std::make_unique<nn::Adam<float>>(std::move(p), nn::AdamOptions{.lr = 1e-2});
  };
  for (const std::size_t batch : {7, 1}) {
    CAPTURE(batch);
    // Float rounding, carried through the steps: see the tolerance of the gradients' test. SGD
    // moves the weights by the gradient itself, so a gradient scaled wrongly (a sum for a mean) or
    // weighted wrongly is off by far more; Adam's first steps do not see a gradient's scale, only its
    // direction, so it checks the state it keeps and the split's weighting.
    const double sgd_error = train_against_one_process(sgd, batch, 3);
    const double adam_error = train_against_one_process(adam, batch, 3);
    MESSAGE("worst relative difference from one process: SGD with momentum ", sgd_error, ", Adam ", adam_error);
    CHECK(sgd_error < 1e-4);
    CHECK(adam_error < 1e-4);
  }
}

TEST_CASE("ranks that built different models are an error on every rank, before any gradient is exchanged") {
  const distributed::Communicator world;
  Mlp same(1), wider(1, world.rank() == 0 ? 16 : 17);
  CHECK_THROWS_WITH_AS(distributed::GradientAverager<float>(world, wider.parameters()),
                       doctest::Contains("the ranks disagree on the model"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(distributed::broadcast_parameters(world, wider.parameters()),
                       doctest::Contains("from 276 to 293 numbers"), std::invalid_argument);
  // As many numbers, other shapes.
  const V transposed(world.rank() == 0 ? ag::Tensor<float>::from_shape({2, 3}) : ag::Tensor<float>::from_shape({3, 2}),
                     true);
  CHECK_THROWS_WITH_AS(distributed::GradientAverager<float>(world, {transposed}),
                       doctest::Contains("not of the same shapes"), std::invalid_argument);
  CHECK_NOTHROW(distributed::GradientAverager<float>(world, same.parameters()));
}

TEST_CASE("a checkpoint is saved by rank 0 alone, and its failure is every rank's") {
  namespace fs = std::filesystem;
  const distributed::Communicator world;
  Mlp model(1);
  // Rank 0 saves to a fresh file; rank 1 is given a path no one can write, and must not try it.
  const fs::path file = fs::temp_directory_path() / ("autograd_mpi_test_" + std::to_string(::getpid()) + ".npz");
  const std::string path = world.is_root() ? file.string() : "/proc/autograd_mpi_test/model.npz";
  CHECK_NOTHROW(distributed::save_on_root(world, model, path));
  if (world.is_root()) {
    Mlp loaded(2);
    nn::load(loaded, path);
    CHECK(worst_error(loaded.parameters(), model.parameters()) == 0);
    fs::remove(file);
  }
  // Now rank 0 cannot write: every rank throws, rank 1 with rank 0's reason.
  CHECK_THROWS_WITH_AS(distributed::save_on_root(world, model, "/proc/autograd_mpi_test/model.npz"),
                       doctest::Contains("/proc/autograd_mpi_test"), nn::CheckpointError);
}

namespace {

// How many numbers of the optimizer's state differ, in any bit, from rank 0's, summed over the ranks.
std::size_t state_differences_from_rank0(const distributed::Communicator& comm, nn::Optimizer<float>& optimizer) {
  std::vector<V> state;
  for (const ag::Tensor<float>* t : optimizer.state_tensors()) state.push_back(V(*t));
  return differences_from_rank0(comm, state);
}

// Whether every rank's optimizer has taken `steps` steps by its count.
bool step_counts_are(const distributed::Communicator& comm, const nn::Optimizer<float>& optimizer, long steps) {
  const std::uint64_t mine[] = {static_cast<std::uint64_t>(optimizer.step_count())};
  const distributed::Communicator::Range agreed = comm.range(mine)[0];
  return agreed.min == agreed.max && agreed.min == static_cast<std::uint64_t>(steps);
}

bool all_zero(nn::Optimizer<float>& optimizer) {
  for (const ag::Tensor<float>* t : optimizer.state_tensors()) {
    if (std::any_of(t->begin(), t->end(), [](float x) { return x != 0.0f; })) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("rank 0's optimizer state, resumed there alone, reaches every rank, and the next step is the same") {
  const distributed::Communicator world;
  const Data data;
  const MakeOptimizer sgd = [](std::vector<V> p) {
    return std::make_unique<nn::SGD<float>>(std::move(p), nn::SGDOptions{.lr = 0.1, .momentum = 0.9});
  };
  const MakeOptimizer adam = [](std::vector<V> p) {
    return std::make_unique<nn::Adam<float>>(std::move(p), nn::AdamOptions{.lr = 1e-2});
  };
  for (const bool is_adam : {false, true}) {
    CAPTURE(is_adam);
    const long adam_steps = is_adam ? 3 : 0;  // SGD counts no steps
    Mlp model(1);
    const auto optimizer = (is_adam ? adam : sgd)(model.parameters());

    // Before any step: the state is there, zero, on every rank, and stays so.
    CHECK(!optimizer->state_tensors().empty());
    distributed::broadcast_optimizer_state(world, *optimizer);
    CHECK(all_zero(*optimizer));
    CHECK(step_counts_are(world, *optimizer, 0));

    // Rank 0 takes 3 steps alone (as if it had resumed from a checkpoint); rank 1's optimizer is fresh.
    if (world.is_root()) {
      for (std::size_t first = 0; first < 9; first += 3) {
        optimizer->zero_grad();
        ag::backward(mean_loss(model, data, {first, first + 1, first + 2}));
        optimizer->step();
      }
    }
    CHECK(state_differences_from_rank0(world, *optimizer) > 0);
    CHECK(step_counts_are(world, *optimizer, 0) == !is_adam);

    distributed::broadcast_parameters(world, model.parameters());
    distributed::broadcast_optimizer_state(world, *optimizer);
    CHECK(state_differences_from_rank0(world, *optimizer) == 0);
    CHECK(step_counts_are(world, *optimizer, adam_steps));
    CHECK(!all_zero(*optimizer));

    // One synchronized step: the same parameters, bit for bit, and the same state.
    distributed::GradientAverager<float> averager(world, model.parameters());
    const std::vector<std::size_t> mine = distributed::shard({10, 11, 12, 13, 14, 15, 16}, world.rank(), world.size());
    optimizer->zero_grad();
    ag::backward(mean_loss(model, data, mine));
    averager.average(mine.size());
    optimizer->step();
    CHECK(differences_from_rank0(world, model.parameters()) == 0);
    CHECK(state_differences_from_rank0(world, *optimizer) == 0);
    CHECK(step_counts_are(world, *optimizer, is_adam ? adam_steps + 1 : 0));
  }
}

TEST_CASE("optimizer states that differ between ranks are an error on every rank, before any state moves") {
  const distributed::Communicator world;
  Mlp same(1), wider(1, world.rank() == 0 ? 16 : 17);
  nn::Adam<float> narrow_or_wide(wider.parameters(), {});
  CHECK_THROWS_WITH_AS(distributed::broadcast_optimizer_state(world, narrow_or_wide),
                       doctest::Contains("from 552 to 586 numbers"), std::invalid_argument);
  // As many numbers, other shapes.
  const V transposed(world.rank() == 0 ? ag::Tensor<float>::from_shape({2, 3}) : ag::Tensor<float>::from_shape({3, 2}),
                     true);
  nn::Adam<float> other_shapes({transposed}, {});
  CHECK_THROWS_WITH_AS(distributed::broadcast_optimizer_state(world, other_shapes),
                       doctest::Contains("not of the same shapes"), std::invalid_argument);
  // Momentum on rank 0 only: velocities there, no state on rank 1.
  nn::SGD<float> sgd(same.parameters(), {.lr = 0.1, .momentum = world.rank() == 0 ? 0.9 : 0.0});
  CHECK_THROWS_WITH_AS(distributed::broadcast_optimizer_state(world, sgd),
                       doctest::Contains("from 0 to 4 state tensors"), std::invalid_argument);
  nn::Adam<float> alike(same.parameters(), {});
  CHECK_NOTHROW(distributed::broadcast_optimizer_state(world, alike));
}
