// Several threads running backward at once over graphs that share leaves (a thread pool
// evaluating a batch, Hogwild): each pass keeps its own bookkeeping, shared .grad() sums them all.
#include <thread>
#include <vector>

#include "test_util.hpp"

using ag::Tensor;
using V = ag::Variable<double>;

namespace {

struct Parameters {
  V w1, b1, w2;
};

// A small network's loss on one shard: several ops read the shared leaves, one of them twice.
V shard_loss(const Parameters& p, const Tensor<double>& x) {
  const V h = ag::tanh(ag::matmul(V(x), p.w1) + p.b1);
  const V y = ag::matmul(h, p.w2) * p.b1.value()(0) + ag::sum(p.w2 * p.w2);
  return ag::sum(y * y);
}

constexpr int kThreads = 4;
constexpr int kRounds = 25;

}  // namespace

TEST_CASE("threads running backward on graphs sharing leaves accumulate the sum of the sequential gradients") {
  const Parameters shared{V(test::uniform({5, 8}), true), V(test::uniform({8}), true), V(test::uniform({8, 3}), true)};
  std::vector<Tensor<double>> shards;
  for (int t = 0; t < kThreads; ++t) shards.push_back(test::uniform({6, 5}));

  // Sequentially, on a private copy of the parameters.
  const Parameters alone{V(shared.w1.value(), true), V(shared.b1.value(), true), V(shared.w2.value(), true)};
  for (int round = 0; round < kRounds; ++round) {
    for (const Tensor<double>& x : shards) ag::backward(shard_loss(alone, x));
  }

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&shared, &shards, t] {
      for (int round = 0; round < kRounds; ++round)
        ag::backward(shard_loss(shared, shards[static_cast<std::size_t>(t)]));
    });
  }
  for (std::thread& th : threads) th.join();

  // The same terms, added in another order: equal up to rounding.
  CHECK(xt::allclose(shared.w1.grad().value(), alone.w1.grad().value(), 1e-11, 1e-12));
  CHECK(xt::allclose(shared.b1.grad().value(), alone.b1.grad().value(), 1e-11, 1e-12));
  CHECK(xt::allclose(shared.w2.grad().value(), alone.w2.grad().value(), 1e-11, 1e-12));
}

TEST_CASE("threads calling grad() on graphs sharing leaves each get their own gradients") {
  const V w(test::uniform({4, 4}), true);
  std::vector<Tensor<double>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(test::uniform({3, 4}));
    expected.push_back(ag::grad(ag::sum(ag::sigmoid(ag::matmul(V(inputs.back()), w))), {w})[0].value());
  }
  std::vector<std::vector<Tensor<double>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto i = static_cast<std::size_t>(t);
      for (int round = 0; round < kRounds; ++round) {
        got[i].push_back(ag::grad(ag::sum(ag::sigmoid(ag::matmul(V(inputs[i]), w))), {w})[0].value());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (std::size_t t = 0; t < got.size(); ++t) {
    for (const Tensor<double>& g : got[t]) CHECK(g == expected[t]);  // one pass, one order: bit for bit
  }
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("many short passes from several threads lose no contribution to a shared leaf's gradient") {
  // Graphs so small that adding into w.grad() is most of each pass: unsynchronised, some of these
  // additions would be lost. Small integers keep every sum exact, so any loss shows.
  constexpr int kPasses = 5000;
  const V w(ag::full<double>({256}, 0.5), true);
  std::vector<Tensor<double>> xs;
  for (int t = 0; t < kThreads; ++t) xs.push_back(ag::full<double>({256}, static_cast<double>(t + 1)));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&w, &xs, t] {
      const V x(xs[static_cast<std::size_t>(t)]);
      for (int pass = 0; pass < kPasses; ++pass) ag::backward(ag::sum(w * x));
    });
  }
  for (std::thread& th : threads) th.join();
  const double expected = kPasses * (kThreads * (kThreads + 1) / 2);  // sum over threads of kPasses * (t + 1)
  CHECK(w.grad().value() == ag::full<double>({256}, expected));
}
