// Tutorial 2: the half adder. A one-layer perceptron network learns the carry but never the sum;
// a multi-layer perceptron learns both.
//
//   half_adder [--out DIR]     writes DIR/half_adder_*.csv and .svg, the learning curves (default: .)
//
// DIR is created (with its parents) if missing and checked writable before any training.
// Exit status (cli.hpp): 0 done, 1 an output that cannot be written, 2 a bad option.
#include "half_adder.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <string>
#include <xtensor/xview.hpp>

#include "cli.hpp"

namespace {

void print_table(const char* title, const half_adder::Tensor& outputs, const half_adder::Tensor& target,
                 bool probability) {
  fmt::print("{}\n  x1 x2 | target | output\n", title);
  const half_adder::Data data;
  for (std::size_t i = 0; i < 4; ++i) {
    const float o = outputs(i, 0);
    fmt::print("   {}  {} |   {}    | {}{}\n", data.x(i, 0), data.x(i, 1), target(i, 0),
               probability ? fmt::format("{:.3f}", o) : fmt::format("{}", o),
               (o >= 0.5f) == (target(i, 0) == 1.0f) ? "" : "   <- wrong");
  }
}

}  // namespace

int main(int argc, char** argv) try {
  std::string out = ".";
  CLI::App app{"The half adder: perceptrons learn the carry but never the sum (XOR); a 2-3-2 MLP learns both.",
               "half_adder"};
  app.add_option("--out", out,
                 "folder for the learning curves, half_adder_*.csv and .svg;\n"
                 "created with its parents if missing (mkdir -p), and checked\n"
                 "writable before any training")
      ->type_name("DIR")
      ->check(tutorial::nonempty_path())
      ->capture_default_str();
  app.footer(tutorial::exit_status_help("DIR or a file in it cannot be written"));
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  tutorial::prepare_output_folder(out);

  const half_adder::Data data;
  using half_adder::Rule;

  fmt::print("The half adder: carry = x1 AND x2, sum = x1 XOR x2.\n\n");
  fmt::print(
      "1. A one-layer perceptron network: each output its own unit, out = step(w1 x1 + w2 x2 + b),\n"
      "   trained by the perceptron rule w <- w + alpha (y - out) x, i.e. gradient descent on\n"
      "   nn::perceptron_loss(in, y, nn::Reduction::sum) = sum (step(in) - y) in, whose gradient\n"
      "   is exactly that rule.\n\n");
  // Trains one unit per output with `rule`, prints both truth tables; returns the two results.
  const auto one_layer = [&](Rule rule, int epochs, float lr, const char* unit) {
    const auto carry = half_adder::train_perceptron(data.carry, rule, epochs, lr, 1);
    const auto sum = half_adder::train_perceptron(data.sum, rule, epochs, lr, 1);
    const bool probability = rule == Rule::logistic;
    print_table(fmt::format("   carry ({} unit):", unit).c_str(), carry.outputs, data.carry, probability);
    print_table(fmt::format("   sum ({} unit):", unit).c_str(), sum.outputs, data.sum, probability);
    fmt::print("   carry: {}/4 right; sum: {}/4 right after {} epochs.\n\n", carry.right, sum.right, epochs);
    return std::pair{carry, sum};
  };
  const auto [carry, sum] = one_layer(Rule::perceptron, 200, 0.1f, "threshold");

  fmt::print(
      "   With sigmoid units trained by the logistic rule w <- w + alpha (y - g(in)) x (the\n"
      "   cross-entropy's gradient), the same happens:\n\n");
  one_layer(Rule::logistic, 2000, 0.5f, "sigmoid");

  fmt::print(
      "   Why the sum never comes: one unit draws one straight line w1 x1 + w2 x2 + b = 0 through\n"
      "   the plane and answers 1 on one side. The sum asks for 1 at (0,1) and (1,0) and 0 at (0,0)\n"
      "   and (1,1): b < 0, w2 + b >= 0, w1 + b >= 0 give w1 + w2 + b >= -b > 0, so (1,1) would be\n"
      "   on the 1 side too. No line separates XOR's two classes; the carry (AND) is separable.\n\n");

  fmt::print(
      "2. A multi-layer perceptron 2-3-2 of sigmoid units, both outputs at once, trained by\n"
      "   backpropagation (the engine's backward) on the cross-entropy:\n\n");
  const auto mlp = half_adder::train_mlp(2000, 0.1f, 3);
  const half_adder::Tensor carry_out = xt::view(mlp.outputs, xt::all(), xt::range(0, 1));
  const half_adder::Tensor sum_out = xt::view(mlp.outputs, xt::all(), xt::range(1, 2));
  print_table("   carry (MLP):", carry_out, data.carry, true);
  print_table("   sum (MLP):", sum_out, data.sum, true);
  fmt::print("   {}/8 outputs right: the hidden layer bends the boundary, and the sum is learnt.\n\n", mlp.right);

  tutorial::Outputs outputs;
  const auto stem = [&](const char* name) { return (std::filesystem::path(out) / name).string(); };
  outputs.curve(sum.curve, stem("half_adder_perceptron_sum"),
                "threshold perceptron on the sum (XOR): the loss never reaches 0");
  outputs.curve(carry.curve, stem("half_adder_perceptron_carry"), "threshold perceptron on the carry (AND)");
  outputs.curve(mlp.curve, stem("half_adder_mlp"), "2-3-2 MLP on carry and sum");
  if (outputs.failures().empty()) {
    fmt::print("Learning curves (loss and accuracy per epoch): {} and {}\n", stem("half_adder_*.csv"),
               stem("half_adder_*.svg"));
  } else if (!outputs.written().empty()) {
    fmt::print("Learning curves written: {}\n", fmt::join(outputs.written(), ", "));
  }
  return outputs.finish("half_adder");
} catch (...) {
  return tutorial::report_failure("half_adder");
}
