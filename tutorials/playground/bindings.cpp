// The playground's JavaScript API (embind), over course_step.hpp and trainer.hpp. Objects go
// both ways as plain JavaScript objects; grids as typed arrays. An engine error thrown by a call
// is caught here and handed to the page as text ({error} or Trainer.error()), since a C++
// exception reaches JavaScript only as an opaque WebAssembly exception.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <string>

#include "course_step.hpp"
#include "trainer.hpp"

namespace playground {

namespace {

using emscripten::val;

template <class Array>
val to_js(const Array& values) {
  val out = val::array();
  for (std::size_t i = 0; i < values.size(); ++i) out.set(i, values[i]);
  return out;
}

double number(const val& source, const char* name) {
  const val v = source[name];
  if (!v.isNumber()) throw std::invalid_argument(std::string(name) + " must be a number");
  return v.as<double>();
}

// A whole number in int's range (a cast of NaN or of 1e300 to int would be undefined).
int whole_number(const val& v, const std::string& name) {
  const double d = v.isNumber() ? v.as<double>() : std::nan("");
  if (!(std::abs(d) < 1e9) || d != std::floor(d)) throw std::invalid_argument(name + " must be a whole number");
  return static_cast<int>(d);
}

val weights_to_js(const CourseInput& c) {
  val out = val::object();
  out.set("x1", c.x1);
  out.set("x2", c.x2);
  out.set("y", c.y);
  out.set("alpha", c.alpha);
  out.set("w1", to_js(c.w1));
  out.set("w2", to_js(c.w2));
  out.set("w3", to_js(c.w3));
  return out;
}

val float_array(const std::vector<float>& v) {
  return val::global("Float32Array").new_(emscripten::typed_memory_view(v.size(), v.data()));
}

// The course step on the 14 numbers of an input as course_api.js passes them: its 36 figures as a
// Float64Array over this buffer of the module's memory, which course_api.js names and copies
// before the next call (an object built field by field from here would cost several times the
// step itself); with the graph, {figures, graph, dot}; the engine's error as a string.
std::array<double, 36> figures_buffer;

val course_step_values(double x1, double x2, double y, double alpha, double w1a, double w1b, double w1c, double w1d,
                       double w2a, double w2b, double w2c, double w2d, double w3a, double w3b, bool with_graph) {
  try {
    const CourseInput in{x1, x2, y, alpha, {w1a, w1b, w1c, w1d}, {w2a, w2b, w2c, w2d}, {w3a, w3b}};
    const CourseStep s = course_step(in, with_graph);
    double* f = figures_buffer.data();
    for (const double v :
         {s.in_h12[0], s.a_h12[0], s.in_h12[1], s.a_h12[1], s.in_h34[0], s.a_h34[0], s.in_h34[1], s.a_h34[1], s.in_y,
          s.a_y, s.loss, s.delta_y, s.delta_h12[0], s.delta_h12[1], s.delta_h34[0], s.delta_h34[1]}) {
      *f++ = v;
    }
    f = std::copy(s.grad_w1.begin(), s.grad_w1.end(), f);
    f = std::copy(s.grad_w2.begin(), s.grad_w2.end(), f);
    f = std::copy(s.grad_w3.begin(), s.grad_w3.end(), f);
    f = std::copy(s.updated.w1.begin(), s.updated.w1.end(), f);
    f = std::copy(s.updated.w2.begin(), s.updated.w2.end(), f);
    std::copy(s.updated.w3.begin(), s.updated.w3.end(), f);
    // The view made last: a string handed to JavaScript is copied through malloc, which may grow
    // the memory and so detach a view made before it.
    const auto figures = [] {
      return val(emscripten::typed_memory_view(figures_buffer.size(), figures_buffer.data()));
    };
    if (!with_graph) return figures();
    val out = val::object();
    out.set("graph", s.graph);
    out.set("dot", s.dot);
    out.set("figures", figures());
    return out;
  } catch (const std::exception& e) {
    return val(std::string(e.what()));
  }
}

// Milliseconds taken by n course steps (the figures, without the graph's texts) on the 14 numbers
// of an input, timed inside the module: the engine's side of M.courseStepFigures, without the
// JavaScript objects (course_api.js's M.timeCourseSteps(input, n) passes them).
double time_course_steps(double x1, double x2, double y, double alpha, double w1a, double w1b, double w1c, double w1d,
                         double w2a, double w2b, double w2c, double w2d, double w3a, double w3b, int n) {
  const CourseInput in{x1, x2, y, alpha, {w1a, w1b, w1c, w1d}, {w2a, w2b, w2c, w2d}, {w3a, w3b}};
  const auto start = std::chrono::steady_clock::now();
  try {
    for (int i = 0; i < n; ++i) course_step(in);
  } catch (const std::exception&) {
    return std::nan("");  // an input the step refuses (M.courseStep says why)
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// A Trainer for JavaScript: a bad configuration leaves it empty with the reason in error().
class JsTrainer {
 public:
  explicit JsTrainer(const val& c) {
    try {
      TrainerConfig config;
      if (c["dataset"].isString()) config.dataset = c["dataset"].as<std::string>();
      if (c["activation"].isString()) config.activation = c["activation"].as<std::string>();
      const auto integer = [&c](const char* name, int& field) {
        if (!c[name].isUndefined()) field = whole_number(c[name], name);
      };
      const auto real = [&c](const char* name, double& field) {
        if (!c[name].isUndefined()) field = number(c, name);
      };
      integer("points", config.points);
      integer("batchSize", config.batch_size);
      real("noise", config.noise);
      real("trainFraction", config.train_fraction);
      real("learningRate", config.learning_rate);
      real("l1", config.l1);
      real("l2", config.l2);
      if (!c["seed"].isUndefined()) config.seed = static_cast<std::uint64_t>(std::abs(whole_number(c["seed"], "seed")));
      if (!c["hidden"].isUndefined()) {
        if (!c["hidden"].isArray()) throw std::invalid_argument("hidden must be an array of unit counts");
        config.hidden.clear();
        for (std::size_t i = 0; i < c["hidden"]["length"].as<std::size_t>(); ++i) {
          config.hidden.push_back(whole_number(c["hidden"][i], "hidden"));
        }
      }
      trainer_ = std::make_unique<Trainer>(config);
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  std::string error() const { return error_; }

  val step(int n) {
    return guarded([&] { return figures_to_js(trainer().step(n)); });
  }

  val points() {
    return guarded([&] {
      const Dataset& d = trainer().data();
      val out = val::object();
      out.set("x", float_array(d.x));
      out.set("label", float_array(d.label));
      out.set("train", val::global("Uint8Array").new_(emscripten::typed_memory_view(d.train.size(), d.train.data())));
      return out;
    });
  }

  val output_map(int resolution, double extent) {
    return guarded([&] { return float_array(trainer().output_map(resolution, extent)); });
  }

  val unit_maps(int resolution, double extent) {
    return guarded([&] {
      val out = val::array();
      std::size_t i = 0;
      for (const UnitMap& m : trainer().unit_maps(resolution, extent)) {
        val map = val::object();
        map.set("layer", m.layer);
        map.set("unit", m.unit);
        map.set("values", float_array(m.values));
        out.set(i++, map);
      }
      return out;
    });
  }

  val gradcheck() {
    return guarded([&] {
      const GradcheckResult r = trainer().gradcheck();
      val out = val::object();
      out.set("passed", r.passed);
      out.set("maxError", r.max_error);
      out.set("checked", r.checked);
      out.set("message", r.message);
      return out;
    });
  }

  // Milliseconds taken by n training steps, timed inside the module.
  val time_steps(int n) {
    return guarded([&] {
      const auto start = std::chrono::steady_clock::now();
      trainer().step(n);
      return val(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    });
  }

 private:
  Trainer& trainer() {
    if (!trainer_) throw std::invalid_argument("the trainer was not made: " + error_);
    return *trainer_;
  }

  // The call's result, or {error} with the engine's message.
  template <class F>
  val guarded(F f) {
    try {
      return f();
    } catch (const std::exception& e) {
      val out = val::object();
      out.set("error", std::string(e.what()));
      return out;
    }
  }

  static val figures_to_js(const Figures& f) {
    val out = val::object();
    out.set("steps", static_cast<double>(f.steps));
    out.set("trainLoss", f.train_loss);
    out.set("testLoss", f.test_loss);
    out.set("trainAccuracy", f.train_accuracy);
    out.set("testAccuracy", f.test_accuracy);
    return out;
  }

  std::unique_ptr<Trainer> trainer_;
  std::string error_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(playground) {
  emscripten::function(
      "slidesInput", +[] { return weights_to_js(slides_input()); });
  emscripten::function(
      "exerciseInput", +[] { return weights_to_js(exercise_input()); });
  // Named and checked by course_api.js's courseStep and courseStepFigures.
  emscripten::function("courseStepValues", &course_step_values);
  emscripten::function("shapeErrorExample", &shape_error_example);
  emscripten::function("timeCourseStepsValues", &time_course_steps);
  emscripten::class_<JsTrainer>("Trainer")
      .constructor<const val&>()
      .function("error", &JsTrainer::error)
      .function("step", &JsTrainer::step)
      .function("points", &JsTrainer::points)
      .function("outputMap", &JsTrainer::output_map)
      .function("unitMaps", &JsTrainer::unit_maps)
      .function("gradcheck", &JsTrainer::gradcheck)
      .function("timeSteps", &JsTrainer::time_steps);
}

}  // namespace playground
