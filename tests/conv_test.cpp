// Convolution and pooling against plain nested loops, the slides' numbers, and the errors. The
// gradient checks of these ops are in ops_gradcheck_test.cpp, with every other primitive's.
#include <cmath>
#include <limits>
#include <numeric>
#include <xtensor/xview.hpp>

#include "autograd/ops/conv_dnnl.hpp"
#include "test_util.hpp"

using ag::Shape;
using ag::Tensor;
using ag::Variable;
using test::contains;
using test::error_of;
using test::uniform;

namespace {

// xtensor 0.24's reducers crash on 0-d results: sums are taken here.
double total(const Tensor<double>& t) {
  return std::accumulate(t.begin(), t.end(), 0.0);
}

// The definition, one multiply-add at a time: y[n, f, oh, ow] = sum over the filter's channels c
// (of its group) and taps kh, kw of x[n, c, oh s - p + kh d, ow s - p + kw d] w[f, c, kh, kw],
// elements outside the image being zero. `visit(n, f, oh, ow, channel, kh, kw, ih, iw)` is called
// for every term that reads inside the image, so that the three ops can share the loops.
template <class Visit>
void for_each_term(const Shape& x, const Shape& w, const ag::Conv2dOptions& o, Visit visit) {
  const long N = static_cast<long>(x[0]), C = static_cast<long>(x[1]), H = static_cast<long>(x[2]),
             W = static_cast<long>(x[3]);
  const long F = static_cast<long>(w[0]), Cg = static_cast<long>(w[1]), KH = static_cast<long>(w[2]),
             KW = static_cast<long>(w[3]);
  const long OH = (H + 2 * o.padding[0] - o.dilation[0] * (KH - 1) - 1) / o.stride[0] + 1;
  const long OW = (W + 2 * o.padding[1] - o.dilation[1] * (KW - 1) - 1) / o.stride[1] + 1;
  const long Fg = F / o.groups;
  REQUIRE(Cg * o.groups == C);
  for (long n = 0; n < N; ++n)
    for (long f = 0; f < F; ++f)
      for (long oh = 0; oh < OH; ++oh)
        for (long ow = 0; ow < OW; ++ow)
          for (long c = 0; c < Cg; ++c)
            for (long kh = 0; kh < KH; ++kh)
              for (long kw = 0; kw < KW; ++kw) {
                const long ih = oh * o.stride[0] - o.padding[0] + kh * o.dilation[0];
                const long iw = ow * o.stride[1] - o.padding[1] + kw * o.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                visit(n, f, oh, ow, (f / Fg) * Cg + c, c, kh, kw, ih, iw);
              }
}

struct Reference {
  Tensor<double> y, dx, dw;  // the convolution, and its input and weight gradients for dy
};

Reference reference(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>& dy,
                    const ag::Conv2dOptions& o) {
  Reference r{Tensor<double>(xt::zeros<double>(dy.shape())), Tensor<double>(xt::zeros<double>(x.shape())),
              Tensor<double>(xt::zeros<double>(w.shape()))};
  for_each_term(ag::to_shape(x.shape()), ag::to_shape(w.shape()), o,
                [&](long n, long f, long oh, long ow, long ch, long c, long kh, long kw, long ih, long iw) {
                  r.y(n, f, oh, ow) += x(n, ch, ih, iw) * w(f, c, kh, kw);
                  r.dx(n, ch, ih, iw) += w(f, c, kh, kw) * dy(n, f, oh, ow);
                  r.dw(f, c, kh, kw) += x(n, ch, ih, iw) * dy(n, f, oh, ow);
                });
  return r;
}

struct ConvSetting {
  const char* name;
  Shape x, w;
  ag::Conv2dOptions o;
};

const std::vector<ConvSetting> settings = {
    {"3x3 no padding", {2, 3, 7, 6}, {4, 3, 3, 3}, {}},
    {"5x5 padding 2 as LeNet", {3, 1, 12, 12}, {8, 1, 5, 5}, {.padding = {2, 2}}},
    {"stride 2 padding 1 non-square", {2, 2, 9, 7}, {3, 2, 3, 2}, {.stride = {2, 2}, .padding = {1, 1}}},
    {"stride 3 by 2 leaving columns unread", {1, 2, 10, 9}, {2, 2, 2, 2}, {.stride = {3, 2}}},
    {"dilation 2 by 3 padding 2", {2, 2, 9, 10}, {2, 2, 3, 2}, {.padding = {2, 2}, .dilation = {2, 3}}},
    {"3 groups", {2, 6, 6, 5}, {9, 2, 3, 3}, {.padding = {1, 1}, .groups = 3}},
    {"depthwise", {2, 4, 5, 5}, {4, 1, 3, 3}, {.stride = {2, 1}, .padding = {1, 1}, .groups = 4}},
    {"1x1", {3, 5, 4, 3}, {6, 5, 1, 1}, {}},
    {"1x1 stride 2", {2, 3, 5, 5}, {2, 3, 1, 1}, {.stride = {2, 2}}},
    {"kernel as large as the padded image", {2, 2, 3, 4}, {3, 2, 5, 6}, {.padding = {1, 1}}},
    // Several blocks of images per product, groups, and an uneven last block (9 and 4 at one thread).
    {"13 images in blocks", {13, 8, 20, 20}, {4, 4, 3, 3}, {.padding = {1, 1}, .groups = 2}},
    // Large enough to be split over the threads.
    {"64 images of 32 channels", {64, 32, 12, 12}, {16, 32, 3, 3}, {.padding = {1, 1}}},
};

// Both sides sum up to 64 x 288 products in different orders: an entry near zero can differ by
// 1e-12 from rounding alone, while any mistake in the lowering is of the order of the entries.
constexpr double kTolerance = 1e-10;

void check_against_reference(const ConvSetting& s) {
  const Tensor<double> x = uniform(s.x), w = uniform(s.w);
  const Variable<double> X(x, true), Wt(w, true);
  const Variable<double> y = ag::conv2d(X, Wt, s.o);
  const Tensor<double> dy = uniform(ag::to_shape(y.value().shape()));
  const Reference r = reference(x, w, dy, s.o);
  REQUIRE(ag::to_shape(y.value().shape()) == ag::to_shape(r.y.shape()));
  CHECK(xt::allclose(y.value(), r.y, kTolerance, kTolerance));
  const auto g = ag::grad(ag::sum(y * Variable<double>(dy)), {X, Wt});
  CHECK(xt::allclose(g[0].value(), r.dx, kTolerance, kTolerance));
  CHECK(xt::allclose(g[1].value(), r.dw, kTolerance, kTolerance));
  // The two adjoints called directly give the same.
  const std::array<long, 2> size{static_cast<long>(s.x[2]), static_cast<long>(s.x[3])};
  const std::array<long, 2> kernel{static_cast<long>(s.w[2]), static_cast<long>(s.w[3])};
  CHECK(xt::allclose(ag::conv_transpose2d(Variable<double>(dy), Variable<double>(w), size, s.o).value(), r.dx,
                     kTolerance, kTolerance));
  CHECK(xt::allclose(ag::conv2d_weight_grad(Variable<double>(x), Variable<double>(dy), kernel, s.o).value(), r.dw,
                     kTolerance, kTolerance));
}

struct Threads {
  explicit Threads(int n) : before(ag::num_threads()) { ag::set_num_threads(n); }
  ~Threads() { ag::set_num_threads(before); }
  int before;
};

}  // namespace

TEST_CASE("conv2d and its two gradients equal the nested-loop definition in double") {
  for (int threads : {1, 2}) {
    const Threads t(threads);
    for (const ConvSetting& s : settings) {
      CAPTURE(threads);
      CAPTURE(std::string(s.name));
      check_against_reference(s);
    }
  }
}

TEST_CASE("conv2d with a bias adds it to every position of its channel and sums its gradient") {
  for (int threads : {1, 2}) {
    const Threads t(threads);
    for (const ConvSetting& s : settings) {
      CAPTURE(threads);
      CAPTURE(std::string(s.name));
      const Tensor<double> x = uniform(s.x), w = uniform(s.w), b = uniform({s.w[0]});
      const Variable<double> B(b, true);
      const Variable<double> y = ag::conv2d(Variable<double>(x), Variable<double>(w), B, s.o);
      const Tensor<double> plain = ag::conv2d(Variable<double>(x), Variable<double>(w), s.o).value();
      const Tensor<double> expected = plain + xt::view(b, xt::newaxis(), xt::all(), xt::newaxis(), xt::newaxis());
      CHECK(xt::allclose(y.value(), expected, kTolerance, kTolerance));
      const Tensor<double> dy = uniform(ag::to_shape(y.value().shape()));
      const Tensor<double> db = ag::grad(ag::sum(y * Variable<double>(dy)), {B})[0].value();
      for (std::size_t f = 0; f < s.w[0]; ++f) {
        CHECK(db(f) == doctest::Approx(total(xt::view(dy, xt::all(), f, xt::all(), xt::all()))).epsilon(kTolerance));
      }
    }
  }
  const Variable<float> x(Tensor<float>(xt::zeros<float>({1, 2, 4, 4}))),
      w(Tensor<float>(xt::zeros<float>({3, 2, 3, 3})));
  CHECK(contains(
      error_of<ag::ShapeError>([&] { ag::conv2d(x, w, Variable<float>(Tensor<float>(xt::zeros<float>({2})))); }),
      "conv2d: the bias must be [3], one value per filter, got [2]"));
  // An undefined bias is no bias.
  CHECK(ag::conv2d(x, w, Variable<float>()).shape() == Shape{1, 3, 2, 2});
}

#ifdef _OPENMP  // a build without OpenMP (the WebAssembly one) runs on one thread
TEST_CASE("conv2d splits a large batch over the threads") {
  const Threads t(2);
  const std::size_t before = ag::detail::parallel_regions_run();
  check_against_reference(settings.back());
  CHECK(ag::detail::parallel_regions_run() > before);
}
#endif

// Float convolutions run on oneDNN when the engine is built with it, else (and in double) on the
// BLAS lowering: both paths, with and without a bias, against the double definition. Float sums of
// up to 9,216 products (the weight gradient of 64 images) round to 3e-6 of the largest entry in
// oneDNN's order and 4e-7 in BLAS's; a wrong tap or layout is off by the order of an entry.
TEST_CASE("conv2d and its two gradients in float on oneDNN and lowered to BLAS equal the definition") {
  struct Path {
    explicit Path(bool dnnl) : before(ag::detail::dnnl_convolutions_enabled()) {
      ag::detail::set_dnnl_convolutions(dnnl);
    }
    ~Path() { ag::detail::set_dnnl_convolutions(before); }
    bool before;
  };
#ifdef AUTOGRAD_TEST_EXPECTS_DNNL
  REQUIRE(ag::detail::dnnl_convolutions_enabled());
#endif
  const bool built_in = ag::detail::dnnl_convolutions_enabled();
  const auto to_float = [](const Tensor<double>& t) { return Tensor<float>(xt::cast<float>(t)); };
  const auto near = [](const Tensor<float>& got, const Tensor<double>& want) {
    return xt::amax(xt::abs(xt::cast<double>(got) - want))() <= 1e-5 * xt::amax(xt::abs(want))();
  };
  for (bool dnnl : {true, false}) {
    const Path path(dnnl && built_in);
    for (int threads : {1, 2}) {
      const Threads t(threads);
      for (const ConvSetting& s : settings) {
        CAPTURE(dnnl);
        CAPTURE(threads);
        CAPTURE(std::string(s.name));
        const Tensor<double> x = uniform(s.x), w = uniform(s.w), b = uniform({s.w[0]});
        const Variable<float> X(to_float(x), true), Wt(to_float(w), true), B(to_float(b), true);
        const std::size_t runs_before = ag::detail::dnnl_convolutions_run();
        const Variable<float> y = ag::conv2d(X, Wt, B, s.o);
        const Tensor<double> dy = uniform(ag::to_shape(y.value().shape()));
        const Reference r = reference(x, w, dy, s.o);
        const Tensor<double> bias = xt::view(b, xt::newaxis(), xt::all(), xt::newaxis(), xt::newaxis());
        CHECK(near(y.value(), r.y + bias));
        CHECK(near(ag::conv2d(X, Wt, s.o).value(), r.y));
        const auto g = ag::grad(ag::sum(y * Variable<float>(to_float(dy))), {X, Wt});
        CHECK(near(g[0].value(), r.dx));
        CHECK(near(g[1].value(), r.dw));
        // Four convolutions: with and without the bias, and the two gradients. On AVX-512 oneDNN
        // has kernels for every one of these settings; another CPU may leave the odd ones to BLAS.
        const std::size_t on_dnnl = ag::detail::dnnl_convolutions_run() - runs_before;
        if (!(dnnl && built_in)) {
          CHECK(on_dnnl == 0u);
        } else if (s.o.groups == 1 && s.o.dilation == std::array<long, 2>{1, 1}) {
          CHECK(on_dnnl == 4u);
        }
      }
    }
  }
}

#ifdef _OPENMP
// A convolution called from inside the caller's own parallel region takes the BLAS path: there
// oneDNN would run on one thread a kernel built to split its work over the engine's threads.
TEST_CASE("conv2d inside the caller's own OpenMP parallel region computes the definition") {
  const Threads t(2);
  const ConvSetting& s = settings.back();
  const Tensor<double> x = uniform(s.x), w = uniform(s.w);
  const Tensor<double> dy = uniform({s.x[0], s.w[0], s.x[2], s.x[3]});
  const Reference r = reference(x, w, dy, s.o);
  const std::size_t runs_before = ag::detail::dnnl_convolutions_run();
  int wrong = 0;
#pragma omp parallel num_threads(2) reduction(+ : wrong)
  {
    const Variable<float> X(Tensor<float>(xt::cast<float>(x)), true), Wt(Tensor<float>(xt::cast<float>(w)), true);
    const Variable<float> y = ag::conv2d(X, Wt, s.o);
    const auto g = ag::grad(ag::sum(y * Variable<float>(Tensor<float>(xt::cast<float>(dy)))), {X, Wt});
    for (const auto& [got, want] : {std::pair{&y.value(), &r.y}, {&g[0].value(), &r.dx}, {&g[1].value(), &r.dw}}) {
      if (xt::amax(xt::abs(xt::cast<double>(*got) - *want))() > 1e-5 * xt::amax(xt::abs(*want))()) ++wrong;
    }
  }
  CHECK(wrong == 0);
  CHECK(ag::detail::dnnl_convolutions_run() == runs_before);
}
#endif

TEST_CASE("conv2d in float agrees with double") {
  const Tensor<double> x = uniform({4, 3, 10, 9}), w = uniform({5, 3, 3, 3});
  const ag::Conv2dOptions o{.stride = {2, 1}, .padding = {1, 1}};
  const Tensor<double> yd = ag::conv2d(Variable<double>(x), Variable<double>(w), o).value();
  const Tensor<float> yf = ag::conv2d(Variable<float>(Tensor<float>(xt::cast<float>(x))),
                                      Variable<float>(Tensor<float>(xt::cast<float>(w))), o)
                               .value();
  CHECK(xt::allclose(xt::cast<double>(yf), yd, 1e-5, 1e-5));
}

// The slides: "96 * 96 images decomposed into 8 * 8 patches are composed of 89 * 89 = 7821
// overlapping patches. If we extract 400 features per patch, that gives 3,168,400 features per
// image." 89 * 89 is 7921, not 7821 (a slip in the slides); 400 * 7921 = 3,168,400, so the
// slides' final figure is right and follows from 7921.
TEST_CASE("the slides' 96 x 96 image with 8 x 8 patches and 400 features") {
  const Variable<float> image(Tensor<float>(xt::ones<float>({1, 1, 96, 96})));
  const Variable<float> features(Tensor<float>(xt::ones<float>({400, 1, 8, 8})));
  const Variable<float> y = ag::conv2d(image, features);
  CHECK(y.shape() == Shape{1, 400, 89, 89});
  const std::size_t positions = y.shape()[2] * y.shape()[3];
  CHECK(positions == 7921);
  CHECK(positions != 7821);  // the slides' product
  CHECK(y.value().size() == 3'168'400);
  CHECK(y.value()(0, 399, 88, 88) == 64.0f);  // every patch sums 64 ones
}

// The slides' pooling picture keeps, in the course's text, only the pooled feature [[1, 7], [5, 9]]:
// the maximum of each 2 x 2 quarter of the convolved feature. Here is a convolved feature with
// those maxima, and its mean pooling.
TEST_CASE("the slides' pooling example: 2 x 2 max and mean pooling of a 4 x 4 feature") {
  const Tensor<double> feature = {{{{1, 0, 7, 2},  //
                                    {0, 1, 3, 6},
                                    {5, 4, 9, 8},
                                    {2, 1, 7, 0}}}};
  const Variable<double> x(feature, true);
  const Variable<double> pooled = ag::max_pool2d(x, {.kernel = {2, 2}});
  const Tensor<double> expected_max = {{{{1, 7}, {5, 9}}}};
  CHECK(pooled.value() == expected_max);
  const Tensor<double> expected_mean = {{{{0.5, 4.5}, {3, 6}}}};
  CHECK(ag::avg_pool2d(x, {.kernel = {2, 2}}).value() == expected_mean);
  // Each pooled unit's gradient goes to where its maximum is, and nowhere else.
  const Tensor<double> dx = ag::grad(ag::sum(pooled), {x})[0].value();
  const Tensor<double> expected_dx = {{{{1, 0, 1, 0}, {0, 0, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}}}};
  CHECK(dx == expected_dx);
}

TEST_CASE("max pooling is invariant to a shift of the pattern inside its window") {
  // "the same input pattern will be detected whatever its position": a single edge pixel moved
  // within one 3 x 3 pooling region gives the same pooled feature.
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      Tensor<double> image = xt::zeros<double>({1, 1, 6, 6});
      image(0, 0, 3 + r, c) = 1.0;
      const Tensor<double> pooled = ag::max_pool2d(Variable<double>(image), {.kernel = {3, 3}}).value();
      const Tensor<double> expected = {{{{0, 0}, {1, 0}}}};
      CHECK(pooled == expected);
    }
  }
}

TEST_CASE("max pooling: overlapping windows add their gradients, ties go to the first, NaN propagates") {
  // Stride 1: the 9 in the middle is the maximum of all four 2 x 2 windows of the 3 x 3 image.
  const Variable<double> x(Tensor<double>{{{{1, 2, 3}, {4, 9, 5}, {6, 7, 8}}}}, true);
  const Variable<double> y = ag::max_pool2d(x, {.kernel = {2, 2}, .stride = std::array<long, 2>{1, 1}});
  CHECK(y.value() == Tensor<double>{{{{9, 9}, {9, 9}}}});
  const Tensor<double> dx = ag::grad(ag::sum(y), {x})[0].value();
  CHECK(dx(0, 0, 1, 1) == 4.0);
  CHECK(total(dx) == 4.0);

  const Variable<double> tied(Tensor<double>{{{{2, 2}, {2, 2}}}}, true);
  const Tensor<double> dt = ag::grad(ag::sum(ag::max_pool2d(tied, {.kernel = {2, 2}})), {tied})[0].value();
  CHECK(dt == Tensor<double>{{{{1, 0}, {0, 0}}}});

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor<double> with_nan = {{{{1, nan}, {3, 2}}}};
  CHECK(std::isnan(ag::max_pool2d(Variable<double>(with_nan), {.kernel = {2, 2}}).value()(0, 0, 0, 0)));

  // Padding never wins, even over negative numbers.
  const Tensor<double> negative = {{{{-3, -4}, {-5, -6}}}};
  const Tensor<double> padded =
      ag::max_pool2d(Variable<double>(negative), {.kernel = {2, 2}, .padding = {1, 1}}).value();
  CHECK(padded == Tensor<double>{{{{-3, -4}, {-5, -6}}}});
}

TEST_CASE("mean pooling with padding counts the padding or not, as asked") {
  const Tensor<double> ones = xt::ones<double>({1, 1, 2, 2});
  const ag::Pool2dOptions counting{.kernel = {3, 3}, .stride = std::array<long, 2>{1, 1}, .padding = {1, 1}};
  ag::Pool2dOptions not_counting = counting;
  not_counting.count_include_pad = false;
  // Each 3 x 3 window around a pixel of the 2 x 2 image holds the 4 pixels and 5 padding zeros.
  CHECK(xt::allclose(ag::avg_pool2d(Variable<double>(ones), counting).value(), xt::ones<double>({1, 1, 2, 2}) * 4 / 9));
  CHECK(xt::allclose(ag::avg_pool2d(Variable<double>(ones), not_counting).value(), xt::ones<double>({1, 1, 2, 2})));
  // The spread is the adjoint: <avg(x), g> = <x, spread(g)>.
  const Tensor<double> x = uniform({2, 3, 5, 4});
  for (const ag::Pool2dOptions& o : {counting, not_counting}) {
    const Tensor<double> y = ag::avg_pool2d(Variable<double>(x), o).value();
    const Tensor<double> g = uniform(ag::to_shape(y.shape()));
    const Tensor<double> spread = ag::avg_pool2d_backward(Variable<double>(g), {5, 4}, o).value();
    CHECK(total(y * g) == doctest::Approx(total(x * spread)).epsilon(1e-12));
  }
}

TEST_CASE("pooling splits a large batch over the threads and gives the same at one thread") {
  const Tensor<double> x = uniform({64, 16, 14, 14});
  const ag::Pool2dOptions o{.kernel = {3, 3}, .stride = std::array<long, 2>{2, 2}, .padding = {1, 1}};
  Tensor<double> one_max, one_mean;
  {
    const Threads t(1);
    one_max = ag::max_pool2d(Variable<double>(x), o).value();
    one_mean = ag::avg_pool2d(Variable<double>(x), o).value();
  }
  const Threads t(2);
  const std::size_t before = ag::detail::parallel_regions_run();
  CHECK(ag::max_pool2d(Variable<double>(x), o).value() == one_max);
  CHECK(ag::avg_pool2d(Variable<double>(x), o).value() == one_mean);
#ifdef _OPENMP
  CHECK(ag::detail::parallel_regions_run() >= before + 2);
#else
  static_cast<void>(before);
#endif
}

TEST_CASE("convolution and pooling errors name the op and the shapes") {
  const Variable<float> x(Tensor<float>(xt::zeros<float>({2, 4, 5, 5})));
  const auto conv_error = [&x](Shape w, ag::Conv2dOptions o) {
    return error_of<ag::ShapeError>([&] { ag::conv2d(x, Variable<float>(Tensor<float>(xt::zeros<float>(w))), o); });
  };
  std::string e = conv_error({3, 4, 7, 7}, {.padding = {0, 0}});
  CHECK(contains(e, "conv2d"));
  CHECK(contains(e, "[2, 4, 5, 5]"));
  CHECK(contains(e, "[3, 4, 7, 7]"));
  CHECK(contains(e, "larger than the padded input"));
  CHECK(contains(conv_error({3, 4, 7, 7}, {.padding = {0, 1}}), "larger than the padded input"));
  CHECK(contains(conv_error({3, 4, 4, 4}, {.dilation = {2, 1}}), "spanning 7"));
  CHECK(conv_error({3, 4, 7, 7}, {.padding = {1, 2}}) == "(no exception)");  // 7 fits in 5 + 1 + 1 high

  e = conv_error({3, 3, 3, 3}, {});
  CHECK(contains(e, "conv2d: the input has 4 channels"));
  CHECK(contains(e, "the weight reads 3"));
  CHECK(contains(conv_error({3, 4, 3, 3}, {.stride = {0, 1}}), "stride 0 along the height must be at least 1"));
  CHECK(contains(conv_error({3, 4, 3, 3}, {.stride = {1, -2}}), "stride -2 along the width"));
  CHECK(contains(conv_error({3, 4, 3, 3}, {.padding = {-1, 0}}), "padding -1 along the height is negative"));
  CHECK(contains(conv_error({3, 4, 3, 3}, {.dilation = {1, 0}}), "dilation 0 along the width"));
  CHECK(contains(conv_error({3, 1, 3, 3}, {.groups = 0}), "groups must be at least 1"));
  CHECK(contains(conv_error({3, 1, 3, 3}, {.groups = -4}), "groups must be at least 1"));
  e = conv_error({3, 1, 3, 3}, {.groups = 4});
  CHECK(contains(e, "4 input channels and 3 filters must both divide into 4 groups"));
  CHECK(contains(e, "[3, 1, 3, 3]"));
  CHECK(contains(conv_error({4, 2, 3, 3}, {.groups = 3}), "divide into 3 groups"));
  // The filters divide into 3 groups and the weight reads 4 / 3 = 1 channel, but the channels do not.
  CHECK(contains(conv_error({3, 1, 3, 3}, {.groups = 3}),
                 "4 input channels and 3 filters must both divide into 3 groups"));
  CHECK(contains(conv_error({4, 4, 3}, {}), "the weight must be [F, C / groups, KH, KW], got [4, 4, 3]"));
  CHECK(contains(error_of<ag::ShapeError>([] {
                   ag::conv2d(Variable<float>(Tensor<float>(xt::zeros<float>({4, 5, 5}))),
                              Variable<float>(Tensor<float>(xt::zeros<float>({3, 4, 3, 3}))));
                 }),
                 "conv2d: the input must be [N, C, H, W], got [4, 5, 5]"));

  // The adjoints check that the sizes they are given make the convolution they transpose.
  const Variable<float> w(Tensor<float>(xt::zeros<float>({3, 4, 3, 3})));
  const Variable<float> dy(Tensor<float>(xt::zeros<float>({2, 3, 3, 3})));
  CHECK(contains(error_of<ag::ShapeError>([&] {
                   ag::conv_transpose2d(dy, w, {6, 6});
                 }),
                 "conv_transpose2d: the input is [2, 3, 3, 3], but the convolution it transposes gives [2, 3, 4, 4]"));
  CHECK(contains(error_of<ag::ShapeError>([&] {
                   ag::conv2d_weight_grad(x, dy, {2, 2});
                 }),
                 "conv2d_weight_grad: the output's gradient is [2, 3, 3, 3], but the convolution"));

  const auto pool_error = [&x](ag::Pool2dOptions o) {
    return error_of<ag::ShapeError>([&] { ag::max_pool2d(x, o); }) + " | " +
           error_of<ag::ShapeError>([&] { ag::avg_pool2d(x, o); });
  };
  e = pool_error({.kernel = {6, 2}});
  CHECK(contains(e, "max_pool2d: a kernel spanning 6 along the height is larger than the padded input's 5"));
  CHECK(contains(e, "avg_pool2d: a kernel spanning 6"));
  CHECK(contains(e, "input [2, 4, 5, 5], kernel [6, 2]"));
  CHECK(contains(pool_error({.kernel = {2, 2}, .stride = std::array<long, 2>{0, 1}}), "stride 0 along the height"));
  CHECK(contains(pool_error({.kernel = {3, 3}, .padding = {2, 1}}), "padding 2 is more than half the kernel's 3"));
  CHECK(contains(pool_error({.kernel = {3, 3}, .padding = {1, 2}}), "padding 2 is more than half the kernel's 3"));
  CHECK(contains(pool_error({.kernel = {0, 2}}), "kernel size 0 along the height"));
  CHECK(contains(error_of<ag::ShapeError>([] {
                   ag::max_pool2d(Variable<float>(Tensor<float>(xt::zeros<float>({5, 5}))));
                 }),
                 "max_pool2d: the input must be [N, C, H, W], got [5, 5]"));
  CHECK(error_of<ag::ShapeError>([] {
          ag::avg_pool2d_backward(Variable<float>(Tensor<float>(xt::zeros<float>({1, 1, 2, 2}))), {5, 5});
        }) == "(no exception)");
  CHECK(contains(error_of<ag::ShapeError>([] {
                   ag::avg_pool2d_backward(Variable<float>(Tensor<float>(xt::zeros<float>({1, 1, 3, 2}))), {5, 5});
                 }),
                 "avg_pool2d_backward: the output's gradient is [1, 1, 3, 2], but pooling [5, 5] gives [1, 1, 2, 2]"));
}
