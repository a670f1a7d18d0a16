// The playground's engine side natively, the figures the browser's are compared with
// (tests/playground/timings.py --native-course-us): the course step (figures only, as
// M.timeCourseSteps times it in the module) and training steps of the 2-8-8-1 tanh network at
// batch 10 and 200, each the median of five rounds of half a second, on one thread.
//
//   bench_playground            prints one line per figure, microseconds per call
#include <fmt/format.h>

#include <algorithm>
#include <autograd/parallel.hpp>

#include "../tutorials/playground/course_step.hpp"
#include "../tutorials/playground/trainer.hpp"
#include "harness.hpp"

namespace {

double median_us(const std::function<void()>& work) {
  std::vector<double> rounds = bench::round_ns(work, 5, 0.5);
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2] / 1000;
}

}  // namespace

int main() {
  ag::set_num_threads(1);
  const playground::CourseInput slides = playground::slides_input();
  fmt::print("course step (figures)        {:8.2f} us\n", median_us([&] { playground::course_step(slides); }));
  fmt::print("course step (with the graph) {:8.2f} us\n", median_us([&] { playground::course_step(slides, true); }));
  for (const int batch : {10, 200}) {
    // 400 points, half for training: a batch of 200 is the whole training set, as in the page.
    playground::Trainer t({.dataset = "xor", .points = 400, .seed = 1, .hidden = {8, 8}, .batch_size = batch});
    // In runs of 100 steps, as the page's worker trains (step(n) ends with the figures' pass).
    fmt::print("training step, batch {:3}     {:8.2f} us\n", batch, median_us([&] { t.step(100); }) / 100);
  }
}
