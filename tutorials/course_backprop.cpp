// Tutorial 1: the course's hand-worked backpropagation, computed by the engine.
//
// The slides train a 2-2-2-1 network of sigmoid units on one example, x = [2, -1], y = 1, with
// alpha = 0.2, working every number out by hand. Here the network is written as an expression
// (course_network.hpp), `grad` gives every Delta and `backward` every weight gradient; the program
// prints each figure in the slides' notation beside the slides' own, then answers Exercise 1.
//
//   course_backprop [--dot FILE]     FILE gets the recorded graph in Graphviz DOT (dot -Tpng FILE)
//
// Exit status (cli.hpp): 0 done, 1 FILE cannot be written, 2 a bad option.
#include <fmt/format.h>

#include <string>

#include "cli.hpp"
#include "course_network.hpp"

namespace {

using course::Printed;

void print_weights(const course::Network& net, const char* title) {
  const auto& w1 = net.w1.value();
  const auto& w2 = net.w2.value();
  const auto& w3 = net.w3.value();
  fmt::print("{}\n", title);
  fmt::print("  w_{{x1,h1}} = {:9.6f}   w_{{x1,h2}} = {:9.6f}   w_{{x2,h1}} = {:9.6f}   w_{{x2,h2}} = {:9.6f}\n",
             w1(0, 0), w1(0, 1), w1(1, 0), w1(1, 1));
  fmt::print("  w_{{h1,h3}} = {:9.6f}   w_{{h1,h4}} = {:9.6f}   w_{{h2,h3}} = {:9.6f}   w_{{h2,h4}} = {:9.6f}\n",
             w2(0, 0), w2(0, 1), w2(1, 0), w2(1, 1));
  fmt::print("  w_{{h3,y}}  = {:9.6f}   w_{{h4,y}}  = {:9.6f}\n\n", w3(0, 0), w3(1, 0));
}

const char* verdict(Printed kind) {
  switch (kind) {
    case Printed::exact:
      return "agrees";
    case Printed::rounding_carried:
      return "differs: the slides' rounding carried (see below)";
    case Printed::arithmetic_slip:
      return "differs: a slip in the slides' arithmetic (see below)";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string dot_file;
  CLI::App app{"The course's worked backpropagation, figure by figure beside the slides', and Exercise 1.",
               "course_backprop"};
  app.add_option("--dot", dot_file,
                 "write the recorded graph to FILE in Graphviz DOT (dot -Tpng FILE);\n"
                 "its folder must exist; FILE is checked writable before anything runs")
      ->type_name("FILE")
      ->check(tutorial::nonempty_path());
  app.footer(tutorial::exit_status_help("FILE cannot be written"));
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  if (!dot_file.empty()) tutorial::prepare_output_file(dot_file);

  fmt::print("The course's worked example: x = [2, -1], y = 1, sigmoid units g, alpha = 0.2\n\n");
  course::Network net = course::slides_network();
  print_weights(net, "The network as the slides initialise it (no biases):");

  const course::Tensor x{{2.0, -1.0}};
  course::Pass p = course::forward(net, x, 1.0);
  fmt::print("Forward pass, a_j = g(in_j), in_j = sum_i w_{{i,j}} a_i:\n");
  const char* hidden[] = {"h1", "h2", "h3", "h4"};
  for (std::size_t j = 0; j < 2; ++j) {
    fmt::print("  in_{} = {:9.6f}   a_{} = {:.6f}\n", hidden[j], p.in_h12.value()(0, j), hidden[j],
               p.a_h12.value()(0, j));
  }
  for (std::size_t j = 0; j < 2; ++j) {
    fmt::print("  in_{} = {:9.6f}   a_{} = {:.6f}\n", hidden[j + 2], p.in_h34.value()(0, j), hidden[j + 2],
               p.a_h34.value()(0, j));
  }
  fmt::print("  in_y  = {:9.6f}   a_y  = {:.6f}\n\n", p.in_y.value()(0, 0), p.a_y.value()(0, 0));

  fmt::print(
      "Which loss? The slides set the output's Delta = y - a and call it -dLoss/d in. For a sigmoid\n"
      "output that is the cross-entropy Loss = -y log a - (1 - y) log(1 - a) (dLoss/d in = a - y);\n"
      "the squared error would give (y - a) a (1 - a) instead. The engine is given the cross-entropy,\n"
      "as softplus(in) - y in, and asked for dLoss/d in_j: each Delta_j is minus that.\n\n");

  const course::Deltas d = course::deltas(p);
  fmt::print("Deltas, Delta_j = -dLoss/d in_j (by ag::grad):\n");
  fmt::print("  Delta_y  = {:9.6f}\n", d.y(0, 0));
  fmt::print("  Delta_h3 = {:9.6f}   Delta_h4 = {:9.6f}\n", d.h34(0, 0), d.h34(0, 1));
  fmt::print("  Delta_h1 = {:9.6f}   Delta_h2 = {:9.6f}\n\n", d.h12(0, 0), d.h12(0, 1));

  // Keep the gradients of the in_j too, not only the weights': they are the Deltas, negated.
  for (course::V* in : {&p.in_h12, &p.in_h34, &p.in_y}) in->retain_grad();
  ag::backward(p.loss, {.retain_graph = true});
  fmt::print(
      "The graph the engine recorded, after ag::backward (ag::graph_table). Leaves are the\n"
      "weights and the data; the grad of each matmul's output is dLoss/d in_j = -Delta_j:\n{}\n",
      ag::graph_table(p.loss));
  if (!dot_file.empty()) {
    tutorial::write_file(dot_file, ag::to_dot(p.loss));
    fmt::print("(the same graph in Graphviz DOT is in {})\n\n", dot_file);
  }

  course::step(net, 0.2);
  print_weights(net, "After one step, w_{i,j} <- w_{i,j} + alpha a_i Delta_j (= w - alpha dLoss/dw, by ag::backward):");
  const course::Pass after = course::forward(net, x, 1.0);

  fmt::print("Every figure of the slides beside the engine's:\n");
  fmt::print("  {:<55} {:>8} {:>12}\n", "figure", "slides", "engine");
  const auto figures = course::slide_figures(p, d, net, after);
  for (const course::Figure& f : figures) {
    fmt::print("  {:<55} {:>8} {:>12.6f}  {}\n", f.name, f.printed, f.engine, verdict(f.kind));
  }
  fmt::print("\nWhere they differ:\n");
  for (const course::Figure& f : figures) {
    if (f.kind != Printed::exact) fmt::print("  - {}\n", course::describe(f));
  }
  fmt::print(
      "  The engine is exact (to double precision, checked in tests/course_example_test.cpp); the\n"
      "  slides round to three decimals as they go.\n\n");

  fmt::print("Exercise 1: a second input z = [1, 2] with output y = 0, on the network after the update.\n");
  const course::Tensor z{{1.0, 2.0}};
  const course::Pass pz = course::forward(net, z, 0.0);
  const double a = pz.a_y.value()(0, 0);
  fmt::print(
      "  in_y = {:.6f}, a_y = g(in_y) = {:.6f}: the network predicts class {} (a_y {} 0.5), which is z's label.\n",
      pz.in_y.value()(0, 0), a, a >= 0.5 ? 1 : 0, a >= 0.5 ? ">=" : "<");
  const course::Deltas dz = course::deltas(pz);
  fmt::print("  Delta_y = {:.6f}; Delta_h3 = {:.6f}, Delta_h4 = {:.6f}; Delta_h1 = {:.6f}, Delta_h2 = {:.6f}\n",
             dz.y(0, 0), dz.h34(0, 0), dz.h34(0, 1), dz.h12(0, 0), dz.h12(0, 1));
  course::update(net, pz, 0.2);
  print_weights(net, "  The network after the update for z:");
  return tutorial::exit_ok;
} catch (...) {
  return tutorial::report_failure("course_backprop");
}
