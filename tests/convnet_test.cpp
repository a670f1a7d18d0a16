// nn's convolutional modules: Conv2d, MaxPool2d, AvgPool2d, Flatten and the inception module.
// Each test fails if the rule it covers is taken out; the comments say which mutation it catches.
#include <algorithm>
#include <cmath>
#include <nn/nn.hpp>

#include "test_util.hpp"

using ag::Shape;
using ag::Tensor;
using Vd = ag::Variable<double>;
namespace nn = ag::nn;

namespace {

// Every parameter of `m` drawn uniform in [-1, 1], biases included (they start at zero, where a
// missing or misplaced bias would not show).
void randomize(const nn::Module<double>& m) {
  for (auto [_, p] : m.named_parameters()) p.mutable_value() = test::uniform(p.shape(), -1.0, 1.0);
}

std::vector<std::string> names_of(const nn::Module<double>& m) {
  std::vector<std::string> out;
  for (const auto& [name, _] : m.named_parameters()) out.push_back(name);
  return out;
}

double max_abs_difference(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  return xt::amax(xt::abs(a - b))();
}

double stddev(const Tensor<double>& t) {
  return std::sqrt(xt::variance(t)());
}

// The gradients of sum(layer(x) * r), r a fixed random tensor of the output's shape, checked
// through the module: the input's by ag::gradcheck, each parameter's against central differences
// of the module's own forward (eps 1e-6, within 1e-5 + 1e-3 |numeric|, gradcheck's tolerances).
void check_module_gradients(nn::Layer<double>& layer, const Tensor<double>& x) {
  const Tensor<double> r = test::uniform(layer.forward(Vd(x)).shape(), -1.0, 1.0);
  const auto loss = [&](const Vd& input) { return ag::sum(layer.forward(input) * Vd(r)); };

  const auto of_input = [&](const test::Vars& v) { return loss(v[0]); };
  CHECK_FIRST_ORDER(of_input, x);

  layer.zero_grad();
  ag::backward(loss(Vd(x)));
  const double eps = 1e-6;
  std::size_t checked = 0;
  for (auto [name, p] : layer.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), name << " has no gradient");
    const Tensor<double> analytic = p.grad().value();
    double worst = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      ag::NoGrad no_grad;
      double& w = p.mutable_value().flat(i);
      const double saved = w;
      w = saved + eps;
      const double plus = loss(Vd(x)).item();
      w = saved - eps;
      const double minus = loss(Vd(x)).item();
      w = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double error = std::abs(analytic.flat(i) - numeric);
      worst = std::max(worst, error - 1e-3 * std::abs(numeric));
      ++checked;
    }
    CHECK_MESSAGE(worst <= 1e-5,
                  name << ": analytic and numeric gradients differ by " << worst << " beyond the tolerance");
  }
  CHECK(checked == layer.parameter_count());
}

}  // namespace

// ---- Conv2d ----

TEST_CASE("Conv2d: the weight is out x in/groups x KH x KW and the bias out and the output N x out x OH x OW") {
  nn::Generator g(1);
  nn::Conv2d<double> conv(
      4, 6, {3, 5}, {.conv = {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}, .groups = 2}, .generator = &g});
  CHECK(conv.weight().shape() == Shape{6, 2, 3, 5});
  REQUIRE(conv.bias().defined());
  CHECK(conv.bias().shape() == Shape{6});
  CHECK(names_of(conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv.parameter_count() == 6 * 2 * 3 * 5 + 6);
  CHECK(conv.in_channels() == 4);
  CHECK(conv.out_channels() == 6);
  // OH = (9 + 2 - 1 (3 - 1) - 1) / 2 + 1 = 5, OW = (11 + 4 - 2 (5 - 1) - 1) / 1 + 1 = 7.
  CHECK(conv(Vd(test::uniform({2, 4, 9, 11}))).shape() == Shape{2, 6, 5, 7});
}

TEST_CASE("Conv2d: forward is ag::conv2d with the layer's options plus each output channel's bias") {
  nn::Generator g(2);
  const ag::Conv2dOptions options{.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 1}, .groups = 1};
  nn::Conv2d<double> conv(3, 4, {3, 2}, {.conv = options, .generator = &g});
  randomize(conv);
  const Vd x(test::uniform({2, 3, 7, 6}));
  const Tensor<double> y = conv(x).value();
  // Catches: the options not passed on, the bias left out, or broadcast along another axis.
  const Tensor<double> c = ag::conv2d(x, conv.weight(), options).value();
  REQUIRE(y.shape() == c.shape());
  Tensor<double> expected = c;
  for (std::size_t n = 0; n < c.shape()[0]; ++n)
    for (std::size_t f = 0; f < c.shape()[1]; ++f)
      for (std::size_t i = 0; i < c.shape()[2]; ++i)
        for (std::size_t j = 0; j < c.shape()[3]; ++j) expected(n, f, i, j) += conv.bias().value()(f);
  CHECK(max_abs_difference(y, expected) < 1e-14);
}

TEST_CASE("Conv2d: .bias = false leaves the bias out of the parameters and of the forward") {
  nn::Generator g(3);
  nn::Conv2d<double> conv(2, 3, {3, 3}, {.bias = false, .generator = &g});
  CHECK_FALSE(conv.bias().defined());
  CHECK(names_of(conv) == std::vector<std::string>{"weight"});
  const Vd x(test::uniform({1, 2, 5, 5}));
  CHECK(conv(x).value() == ag::conv2d(x, conv.weight()).value());
}

// ---- Initialisation by fan ----

TEST_CASE("conv2d_fans: (in / groups) KH KW in and (out / groups) KH KW out") {
  const nn::Fans plain = nn::conv2d_fans(3, 16, 5, 5);
  CHECK(plain.in == 75);
  CHECK(plain.out == 400);
  const nn::Fans grouped = nn::conv2d_fans(8, 12, 3, 2, 4);
  CHECK(grouped.in == 2 * 3 * 2);
  CHECK(grouped.out == 3 * 3 * 2);
}

TEST_CASE("Conv2d: the weight is drawn with the fans of the kernel from the generator given") {
  // Bit for bit: He draws N(0, 2 / fan_in) with fan_in = (in / groups) KH KW, Xavier
  // U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), fan_out = (out / groups) KH KW.
  for (const long groups : {1L, 2L}) {
    CAPTURE(groups);
    const auto gs = static_cast<std::size_t>(groups);
    nn::Generator g(4), same(4);
    nn::Conv2d<float> he(6, 8, {3, 5}, {.conv = {.groups = groups}, .generator = &g});
    const float fan_in = static_cast<float>(6 / gs * 15), fan_out = static_cast<float>(8 / gs * 15);
    CHECK(he.weight().value() == same.normal<float>({8, 6 / gs, 3, 5}, 0.0f, std::sqrt(2.0f / fan_in)));
    nn::Conv2d<float> xavier(6, 8, {3, 5}, {.conv = {.groups = groups}, .init = nn::Init::xavier, .generator = &g});
    const float a = std::sqrt(6.0f / (fan_in + fan_out));
    CHECK(xavier.weight().value() == same.uniform<float>({8, 6 / gs, 3, 5}, -a, a));
  }
}

TEST_CASE("Conv2d: He's standard deviation is sqrt(2 / fan_in) on a large layer") {
  nn::Generator g(5);
  // 73,728 weights: the sample's standard deviation is within 0.3% of the true one (one sd).
  const nn::Conv2d<double> plain(64, 128, {3, 3}, {.generator = &g});
  CHECK(stddev(plain.parameters()[0].value()) == doctest::Approx(std::sqrt(2.0 / 576)).epsilon(0.02));
  // Groups divide fan_in: 16 * 9 = 144. Catches fans read from the kernel's shape as a matrix's
  // (128 and 16) or from the channels alone (64).
  const nn::Conv2d<double> grouped(64, 128, {3, 3}, {.conv = {.groups = 4}, .generator = &g});
  CHECK(stddev(grouped.parameters()[0].value()) == doctest::Approx(std::sqrt(2.0 / 144)).epsilon(0.02));
  // Xavier's bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (576 + 1152)): the largest weight
  // reaches it and none passes it; its standard deviation is the bound over sqrt(3).
  const nn::Conv2d<double> xavier(64, 128, {3, 3}, {.init = nn::Init::xavier, .generator = &g});
  const double bound = std::sqrt(6.0 / (576 + 1152));
  const Tensor<double> w = xavier.parameters()[0].value();
  CHECK(xt::amax(xt::abs(w))() <= bound);
  CHECK(xt::amax(xt::abs(w))() > 0.999 * bound);
  CHECK(stddev(w) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
}

TEST_CASE("Linear: the weight is the same draw as before the fans were made explicit") {
  // He N(0, 2 / in) and Xavier U(-a, a), a = sqrt(6 / (in + out)), from [in, out], bit for bit.
  nn::Generator g(6), same(6);
  const nn::Linear<float> he(30, 20, {.init = nn::Init::he, .generator = &g});
  CHECK(he.parameters()[0].value() == same.normal<float>({30, 20}, 0.0f, std::sqrt(2.0f / 30.0f)));
  const nn::Linear<float> xavier(30, 20, {.generator = &g});
  const float a = std::sqrt(6.0f / (30.0f + 20.0f));
  CHECK(xavier.parameters()[0].value() == same.uniform<float>({30, 20}, -a, a));
  const nn::Linear<float> low(30, 20, {.init = nn::Init::random_low, .generator = &g});
  CHECK(low.parameters()[0].value() == same.uniform<float>({30, 20}, -0.05f, 0.05f));
}

// ---- Pooling and Flatten ----

TEST_CASE("MaxPool2d and AvgPool2d: the ops with the layer's options") {
  const Vd x(test::uniform({2, 3, 7, 8}));
  const ag::Pool2dOptions options{.kernel = {3, 2}, .stride = std::array<long, 2>{2, 3}, .padding = {1, 1}};
  nn::MaxPool2d<double> max_pool(options);
  CHECK(max_pool(x).value() == ag::max_pool2d(x, options).value());
  CHECK(max_pool(x).shape() == Shape{2, 3, 4, 3});  // (7 + 2 - 3) / 2 + 1, (8 + 2 - 2) / 3 + 1
  ag::Pool2dOptions exclude = options;
  exclude.count_include_pad = false;
  nn::AvgPool2d<double> avg_pool(exclude);
  CHECK(avg_pool(x).value() == ag::avg_pool2d(x, exclude).value());
  CHECK(max_abs_difference(avg_pool(x).value(), ag::avg_pool2d(x, options).value()) > 1e-3);  // the flag is passed on
  CHECK(max_pool.parameter_count() == 0);
  CHECK(avg_pool.parameter_count() == 0);
}

TEST_CASE("MaxPool2d and AvgPool2d: 2 x 2 windows by default and the stride the window's") {
  const Vd x(Tensor<double>{{{{1, 2, 5, 0}, {3, 4, -1, 6}, {0, 0, 7, 8}, {-2, 2, 9, 1}}}});
  const auto max_pooled = nn::max_pool2d<double>()->forward(x).value();
  CHECK(max_pooled == Tensor<double>{{{{4, 6}, {2, 9}}}});
  const auto avg_pooled = nn::avg_pool2d<double>()->forward(x).value();
  CHECK(avg_pooled == Tensor<double>{{{{2.5, 2.5}, {0, 6.25}}}});
}

TEST_CASE("Flatten: N x ... to N x the product of the rest in row-major order") {
  const Tensor<double> t = test::uniform({2, 3, 4, 5});
  nn::Flatten<double> flatten;
  const Vd x = test::leaf(t);
  const Vd y = flatten(x);
  REQUIRE(y.shape() == Shape{2, 60});
  CHECK(y.value()(1, 2 * 20 + 3 * 5 + 4) == t(1, 2, 3, 4));
  ag::backward(ag::sum(y * Vd(test::uniform({2, 60}))));
  CHECK(x.grad().shape() == Shape{2, 3, 4, 5});
  CHECK(nn::flatten<double>()->forward(Vd(Tensor<double>{1.0, 2.0, 3.0})).shape() == Shape{3, 1});
  CHECK(flatten(Vd(Tensor<double>::from_shape({0, 3, 2}))).shape() == Shape{0, 6});
}

// ---- A small convnet, through the modules ----

TEST_CASE("a Conv2d MaxPool2d Flatten Linear network: gradcheck in double through the modules") {
  nn::Generator g(7);
  nn::Sequential<double> net{nn::conv2d<double>(2, 3, {3, 3}, {.conv = {.padding = {1, 1}}, .generator = &g}),
                             nn::relu<double>(), nn::max_pool2d<double>({.kernel = {2, 2}}), nn::flatten<double>(),
                             nn::linear<double>(3 * 3 * 2, 4, {.generator = &g})};
  randomize(net);
  CHECK(names_of(net) == std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias"});
  const Tensor<double> x = test::uniform({2, 2, 6, 4});
  CHECK(net(Vd(x)).shape() == Shape{2, 4});
  check_module_gradients(net, x);
}

TEST_CASE("Conv2d with stride dilation and groups and AvgPool2d: gradcheck in double through the modules") {
  nn::Generator g(8);
  nn::Sequential<double> net{
      nn::conv2d<double>(
          4, 2, {3, 2},
          {.conv = {.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 2}, .generator = &g}),
      nn::avg_pool2d<double>({.kernel = {2, 3}, .stride = std::array<long, 2>{1, 2}, .padding = {1, 1}})};
  randomize(net);
  check_module_gradients(net, test::uniform({2, 4, 5, 6}));
}

// ---- The inception module ----

namespace {
const nn::InceptionChannels googlenet_3a{
    .c1 = 64, .c3_reduce = 96, .c3 = 128, .c5_reduce = 16, .c5 = 32, .pool_proj = 32};
}

TEST_CASE("Inception: GoogLeNet's 3a has 256 channels out and 163 696 parameters") {
  nn::Generator g(9);
  nn::Inception<float> block(192, googlenet_3a, {.generator = &g});
  CHECK(block.out_channels() == 256);
  // Weights: 1x1 192 * 64 = 12,288; 3x3 reduce 192 * 96 = 18,432; 3x3 96 * 128 * 9 = 110,592;
  // 5x5 reduce 192 * 16 = 3,072; 5x5 16 * 32 * 25 = 12,800; pool proj 192 * 32 = 6,144:
  // 163,328, and 64 + 96 + 128 + 16 + 32 + 32 = 368 biases. (The paper's table 1 says 159K.)
  CHECK(block.parameter_count() == 163696);
  CHECK(block.named_parameters().size() == 12);
  CHECK(block.conv3()->weight().shape() == Shape{128, 96, 3, 3});
  CHECK(block.conv5()->weight().shape() == Shape{32, 16, 5, 5});
  CHECK(block(ag::Variable<float>(g.uniform<float>({2, 192, 7, 5}, 0.0f, 1.0f))).shape() == Shape{2, 256, 7, 5});
}

TEST_CASE("Inception: its parameters by name as parameters() and checkpoints see them") {
  nn::Generator g(10);
  nn::Sequential<double> net{nn::inception<double>(3, {1, 2, 3, 1, 2, 2}, {.generator = &g})};
  CHECK(names_of(net) == std::vector<std::string>{"0.conv1.weight", "0.conv1.bias", "0.conv3_reduce.weight",
                                                  "0.conv3_reduce.bias", "0.conv3.weight", "0.conv3.bias",
                                                  "0.conv5_reduce.weight", "0.conv5_reduce.bias", "0.conv5.weight",
                                                  "0.conv5.bias", "0.pool_proj.weight", "0.pool_proj.bias"});
  randomize(net);
  test::TempDir dir;
  nn::save(net, dir / "inception.npz");
  nn::Sequential<double> other{nn::inception<double>(3, {1, 2, 3, 1, 2, 2}, {.generator = &g})};
  nn::load(other, dir / "inception.npz");
  const Vd x(test::uniform({1, 3, 4, 4}));
  CHECK(other(x).value() == net(x).value());
}

TEST_CASE("Inception: the four branches with their ReLUs concatenated in order along the channels") {
  nn::Generator g(11);
  nn::Inception<double> block(3, {.c1 = 2, .c3_reduce = 2, .c3 = 3, .c5_reduce = 1, .c5 = 2, .pool_proj = 1},
                              {.generator = &g});
  randomize(block);
  CHECK(block.out_channels() == 8);
  const Vd x(test::uniform({2, 3, 6, 5}));
  const auto conv = [](const std::shared_ptr<nn::Conv2d<double>>& c, const Vd& in, long pad) {
    return ag::relu(ag::conv2d(in, c->weight(), {.padding = {pad, pad}}) + ag::reshape(c->bias(), {1, -1, 1, 1}));
  };
  const Vd b1 = conv(block.conv1(), x, 0);
  const Vd b3 = conv(block.conv3(), conv(block.conv3_reduce(), x, 0), 1);
  const Vd b5 = conv(block.conv5(), conv(block.conv5_reduce(), x, 0), 2);
  const Vd pooled = ag::max_pool2d(x, {.kernel = {3, 3}, .stride = std::array<long, 2>{1, 1}, .padding = {1, 1}});
  const Vd bp = conv(block.pool_proj(), pooled, 0);
  // Catches: a branch left out or in another place, a ReLU left out (the reduce convolutions'
  // too), the pool's stride or padding changed, a branch's padding changed.
  CHECK(max_abs_difference(block(x).value(), ag::concat({b1, b3, b5, bp}, 1).value()) < 1e-14);
  CHECK(xt::amin(block(x).value())() == 0.0);  // ReLU output: some units off
}

TEST_CASE("Inception: gradcheck in double through the module on a tiny input") {
  nn::Generator g(12);
  nn::Inception<double> block(2, {.c1 = 1, .c3_reduce = 1, .c3 = 2, .c5_reduce = 1, .c5 = 1, .pool_proj = 1},
                              {.generator = &g});
  randomize(block);
  check_module_gradients(block, test::uniform({1, 2, 5, 4}));
}

// ---- Errors ----

TEST_CASE("Conv2d: bad constructor arguments are errors naming the layer") {
  const auto error = [](std::size_t in, std::size_t out, std::array<long, 2> kernel, ag::Conv2dOptions conv) {
    return test::error_of<std::invalid_argument>([&] { nn::Conv2d<float> c(in, out, kernel, {.conv = conv}); });
  };
  CHECK(test::contains(error(0, 4, {3, 3}, {}), "Conv2d(0 -> 4 channels, kernel [3, 3], groups 1): the channels"));
  CHECK(test::contains(error(4, 0, {3, 3}, {}), "the channels must be at least 1"));
  CHECK(test::contains(error(6, 4, {3, 3}, {.groups = 4}), "the groups must divide both"));
  CHECK(test::contains(error(4, 6, {3, 3}, {.groups = 4}), "the groups must divide both"));
  CHECK(test::contains(error(4, 4, {3, 3}, {.groups = 0}), "the groups must be at least 1"));
  CHECK(test::contains(error(4, 4, {0, 3}, {}), "the kernel must be at least 1 x 1"));
  CHECK(test::contains(error(4, 4, {3, 3}, {.stride = {1, 0}}), "stride [1, 0] must be at least 1"));
  CHECK(test::contains(error(4, 4, {3, 3}, {.dilation = {0, 1}}), "dilation [0, 1] must be at least 1"));
  CHECK(test::contains(error(4, 4, {3, 3}, {.padding = {-1, 0}}), "padding [-1, 0] must not be negative"));
  CHECK(error(4, 8, {3, 3}, {.groups = 4}) == "(no exception)");
}

TEST_CASE("Conv2d: an input that is not N x in_channels x H x W is a ShapeError naming the layer and the shapes") {
  nn::Conv2d<float> conv(3, 8, {3, 3});
  const auto error = [&](const Shape& shape) {
    return test::error_of<ag::ShapeError>([&] { conv(ag::Variable<float>(Tensor<float>::from_shape(shape))); });
  };
  CHECK(error({3, 10, 10}) == "Conv2d(3 -> 8 channels): input [3, 10, 10] must be images [N, C, H, W] (rank 4, not 3)");
  CHECK(error({2, 4, 10, 10}) ==
        "Conv2d(3 -> 8 channels): input [2, 4, 10, 10] has 4 channels, the weight [8, 3, 3, 3] takes 3");
}

TEST_CASE("pooling and Flatten: bad options and inputs are errors naming the layer") {
  const auto max_error = [](ag::Pool2dOptions options) {
    return test::error_of<std::invalid_argument>([&] { nn::MaxPool2d<float> p(options); });
  };
  CHECK(max_error({.kernel = {0, 2}}) == "MaxPool2d(kernel [0, 2]): the window must be at least 1 x 1");
  CHECK(test::contains(max_error({.kernel = {2, 2}, .stride = std::array<long, 2>{0, 1}}),
                       "stride [0, 1] must be at least 1"));
  CHECK(test::contains(max_error({.kernel = {3, 3}, .padding = {2, 0}}),
                       "padding [2, 0] must be from 0 to half the window"));
  CHECK(test::contains(max_error({.kernel = {3, 3}, .padding = {0, -1}}), "padding [0, -1]"));
  CHECK(max_error({.kernel = {3, 3}, .padding = {1, 1}}) == "(no exception)");
  CHECK(test::contains(test::error_of<std::invalid_argument>([] {
                         nn::AvgPool2d<float> p({.kernel = {2, -1}});
                       }),
                       "AvgPool2d(kernel [2, -1]): the window must be at least 1 x 1"));

  const ag::Variable<float> matrix(Tensor<float>::from_shape({4, 4}));
  CHECK(test::error_of<ag::ShapeError>([&] { nn::max_pool2d<float>()->forward(matrix); }) ==
        "MaxPool2d: input [4, 4] must be images [N, C, H, W] (rank 4, not 2)");
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] { nn::avg_pool2d<float>()->forward(matrix); }),
                       "AvgPool2d: input [4, 4]"));
  CHECK(test::error_of<ag::ShapeError>([] {
          nn::flatten<float>()->forward(ag::Variable<float>(Tensor<float>(1.0f)));
        }) == "Flatten: input [] is a scalar, without a batch axis [N, ...]");
}

TEST_CASE("Inception: zero channels and a wrong input are errors naming the module") {
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([] {
        nn::Inception<float> b(8, {4, 4, 8, 0, 4, 4});
      }),
      "Inception(8 channels in, c1 4, c3_reduce 4, c3 8, c5_reduce 0, c5 4, pool_proj 4): every channel"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([] {
                         nn::Inception<float> b(0, {1, 1, 1, 1, 1, 1});
                       }),
                       "Inception(0 channels in"));
  nn::Inception<float> block(8, {4, 4, 8, 2, 4, 4});
  CHECK(test::error_of<ag::ShapeError>([&] {
          block(ag::Variable<float>(Tensor<float>::from_shape({1, 7, 5, 5})));
        }) == "Inception(8 channels in): input [1, 7, 5, 5] must be images [N, 8, H, W]");
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         block(ag::Variable<float>(Tensor<float>::from_shape({8, 5, 5})));
                       }),
                       "input [8, 5, 5] must be images [N, 8, H, W]"));
}

// ---- The README's example (section "Convolutional networks: modules") ----

TEST_CASE("the README's convnet trains as written") {
  using V = ag::Variable<float>;
  // As in the README, from here ...
  nn::Generator gen(1);
  nn::Sequential<float> net{
      nn::conv2d<float>(1, 8, {5, 5}, {.conv = {.padding = {2, 2}}, .generator = &gen}),  // [N, 8, 28, 28]
      nn::relu<float>(),
      nn::max_pool2d<float>({.kernel = {2, 2}}),  // [N, 8, 14, 14]
      nn::inception<float>(8, {.c1 = 8, .c3_reduce = 8, .c3 = 16, .c5_reduce = 2, .c5 = 4, .pool_proj = 4},
                           {.generator = &gen}),    // [N, 32, 14, 14]
      nn::avg_pool2d<float>({.kernel = {14, 14}}),  // [N, 32, 1, 1]: the mean of each feature map
      nn::flatten<float>(),                         // [N, 32]
      nn::linear<float>(32, 10, {.generator = &gen})};
  nn::SGD<float> sgd(net.parameters(), {.lr = 0.1});
  const V images(gen.uniform<float>({16, 1, 28, 28}, 0.0f, 1.0f));  // a batch [N, C, H, W]
  const std::vector<std::size_t> labels{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5};
  for (int step = 0; step < 20; ++step) {
    const V loss = nn::softmax_cross_entropy(net.forward(images), labels);
    sgd.zero_grad();
    ag::backward(loss);
    sgd.step();
  }
  // ... to here.

  // Conv 8 * 25 + 8; inception 72 + 72 + 1,168 + 18 + 204 + 36; linear 32 * 10 + 10.
  CHECK(net.parameter_count() == 208 + 1570 + 330);
  CHECK(net.named_parameters()[2].first == "3.conv1.weight");
  nn::Generator same(1);
  nn::Sequential<float> untrained{
      nn::conv2d<float>(1, 8, {5, 5}, {.conv = {.padding = {2, 2}}, .generator = &same}),
      nn::relu<float>(),
      nn::max_pool2d<float>({.kernel = {2, 2}}),
      nn::inception<float>(8, {.c1 = 8, .c3_reduce = 8, .c3 = 16, .c5_reduce = 2, .c5 = 4, .pool_proj = 4},
                           {.generator = &same}),
      nn::avg_pool2d<float>({.kernel = {14, 14}}),
      nn::flatten<float>(),
      nn::linear<float>(32, 10, {.generator = &same})};
  const float before = nn::softmax_cross_entropy(untrained.forward(images), labels).item();
  const float after = nn::softmax_cross_entropy(net.forward(images), labels).item();
  CHECK(after < before);
}

TEST_CASE("every line of the README's convnet is in this test") {
  test::check_readme_snippet(__FILE__, "\n## Convolutional networks: modules\n", 15);
}
