// The half adder tutorial's claims, as tests: a single unit learns AND but not XOR, by either
// rule; a 2-3-2 MLP learns both.
#include "../tutorials/half_adder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "test_util.hpp"

TEST_CASE("one-layer perceptrons learn the carry but not the sum, an MLP learns both") {
  const half_adder::Data data;
  using half_adder::Rule;
  for (std::uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    CHECK(half_adder::train_perceptron(data.carry, Rule::perceptron, 200, 0.1f, seed).right == 4);
    CHECK(half_adder::train_perceptron(data.sum, Rule::perceptron, 200, 0.1f, seed).right < 4);
    CHECK(half_adder::train_perceptron(data.carry, Rule::logistic, 2000, 0.5f, seed).right == 4);
    CHECK(half_adder::train_perceptron(data.sum, Rule::logistic, 2000, 0.5f, seed).right < 4);
  }
  const auto mlp = half_adder::train_mlp(2000, 0.1f, 3);
  CHECK(mlp.right == 8);
  CHECK(mlp.curve.records().back().train_loss < 0.05);
  CHECK(mlp.curve.records().size() == 50);
}

TEST_CASE("a learning curve writes as CSV and SVG") {
  ag::nn::LearningCurve curve;
  curve.add({1, 0.9, 0.5, 1.0, 0.45, 1.5});
  curve.add({2, 0.4, 0.8, 0.5, 0.75, 1.4});
  const std::string csv = "/tmp/autograd-test-curve.csv", svg = "/tmp/autograd-test-curve.svg";
  curve.write_csv(csv);
  curve.write_svg(svg, "test");
  std::ifstream in(csv);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  CHECK(header == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds");
  CHECK(first == "1,0.900000,0.500000,1.000000,0.450000,1.500");
  std::ifstream picture(svg);
  const std::string text((std::istreambuf_iterator<char>(picture)), {});
  CHECK(text.rfind("<svg", 0) == 0);
  CHECK(text.find("<polyline") != std::string::npos);
  CHECK(text.find("</svg>") != std::string::npos);
  // A full disk is noticed when the file is closed, not hidden by the stream's buffer.
  CHECK_THROWS_AS(curve.write_csv("/dev/full"), std::runtime_error);
  CHECK_THROWS_AS(curve.write_svg("/dev/full", "test"), std::runtime_error);
  std::remove(csv.c_str());
  std::remove(svg.c_str());
}

TEST_CASE("curves of any series: one panel each, side by side, each line drawn and named") {
  const std::string svg = "/tmp/autograd-test-curves.svg";
  ag::nn::write_curves_svg(svg, "three panels", {1, 2, 3},
                           {{"objective", {{"J", {3, 2, 1}}, {"E", {2, 1.5, 0.8}}, {"beta KL", {1, 0.5, 0.2}}}},
                            {"activation", {{"mean", {0.2, 0.1, 0.06}}, {"rho", {0.05, 0.05, 0.05}}}},
                            {"third", {{"x", {1, 1, 1}}}}});
  std::ifstream picture(svg);
  const std::string text((std::istreambuf_iterator<char>(picture)), {});
  const auto count = [&](const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  };
  CHECK(text.rfind(R"(<svg xmlns="http://www.w3.org/2000/svg" width="1350")", 0) == 0);
  CHECK(count("<polyline") == 6);
  for (const char* name : {">J<", ">E<", ">beta KL<", ">mean<", ">rho<", ">objective<", ">activation<", ">third<"}) {
    CHECK_MESSAGE(count(name) == 1, name);
  }
  // Five lines in a panel would share a colour: refused, naming the file and the panel.
  const std::string error = test::error_of<std::invalid_argument>([&] {
    ag::nn::write_curves_svg(svg, "t", {1},
                             {{"crowded", {{"a", {1}}, {"b", {1}}, {"c", {1}}, {"d", {1}}, {"e", {1}}}}});
  });
  CHECK(test::contains(error, svg));
  CHECK(test::contains(error, "crowded"));
  CHECK_THROWS_AS(ag::nn::write_curves_svg("/dev/full", "t", {1}, {{"p", {{"a", {1}}}}}), std::runtime_error);
  std::remove(svg.c_str());
}

TEST_CASE("the progress bar prints one plain line per epoch when not on a terminal") {
  std::FILE* out = std::tmpfile();
  ag::nn::ProgressBar bar(2, 5, 10, out);
  CHECK_FALSE(bar.on_terminal());
  for (std::size_t b = 1; b <= 10; ++b) bar.update(b, b * 32, 0.5, 0.75);
  bar.finish("  test acc 0.800");
  std::rewind(out);
  char buffer[512] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, out);
  std::fclose(out);
  const std::string text(buffer, n);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.find("epoch 2/5  10 batches  loss 0.5000  acc 0.750") == 0);
  CHECK(text.find("ex/s") != std::string::npos);
  CHECK(text.find("test acc 0.800") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}
