#include "nn/train/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace ag::nn {

ProgressBar::ProgressBar(std::size_t epoch, std::size_t epochs, std::size_t batches, std::FILE* out)
    : epoch_(epoch),
      epochs_(epochs),
      batches_(batches),
      out_(out),
      terminal_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::line(std::size_t batch) const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(examples_) / seconds : 0;
  std::string text = fmt::format("epoch {}/{}", epoch_, epochs_);
  if (batch < batches_) {
    constexpr std::size_t width = 24;
    const std::size_t filled = batches_ ? width * batch / batches_ : width;
    const double left = batch ? seconds * static_cast<double>(batches_ - batch) / static_cast<double>(batch) : 0;
    text += fmt::format(" [{}>{}] {}/{}", std::string(filled, '='), std::string(width - filled, ' '), batch, batches_);
    text += fmt::format("  loss {:.4f}  acc {:.3f}  {:.0f} ex/s  ETA {:.0f}s", loss_, accuracy_, rate, left);
  } else {
    text += fmt::format("  {} batches  loss {:.4f}  acc {:.3f}  {:.0f} ex/s  {:.1f}s", batches_, loss_, accuracy_, rate,
                        seconds);
  }
  return text;
}

void ProgressBar::update(std::size_t batch, std::size_t examples, double loss, double accuracy) {
  examples_ = examples;
  loss_ = loss;
  accuracy_ = accuracy;
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && batch < batches_) return;  // redraw ten times a second
  last_draw_ = now;
  fmt::print(out_, "\r{}\033[K", line(batch));
  std::fflush(out_);
}

double ProgressBar::finish(const std::string& extra) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  fmt::print(out_, "{}{}{}\n", terminal_ ? "\r" : "", line(batches_), extra);
  if (terminal_) fmt::print(out_, "\033[K");
  std::fflush(out_);
  return seconds;
}

namespace {

// A full disk shows only when the buffered bytes are flushed: close, then look.
void finish(std::ofstream& out, const std::string& path) {
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: writing the learning curve failed", path));
}

}  // namespace

void LearningCurve::write_csv(const std::string& path) const {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write the learning curve", path));
  out << "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  for (const EpochRecord& r : records_) {
    out << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", r.epoch, r.train_loss, r.train_accuracy, r.test_loss,
                       r.test_accuracy, r.seconds);
  }
  finish(out, path);
}

namespace {

// One panel: a frame, y ticks, and one polyline per series.
struct Panel {
  double x0, y0, width, height;
  std::vector<std::size_t> epochs;  // the x axis
  std::string svg(const std::string& title, const std::vector<std::pair<std::string, std::vector<double>>>& series,
                  const std::vector<std::string>& colors) const {
    double lo = INFINITY, hi = -INFINITY;
    std::size_t n = 0;
    for (const auto& [_, ys] : series) {
      for (double y : ys) {
        lo = std::min(lo, y);
        hi = std::max(hi, y);
      }
      n = std::max(n, ys.size());
    }
    if (!(hi > lo)) {
      lo -= 0.5;
      hi += 0.5;
    }
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const auto px = [&](std::size_t i) {
      return x0 + (n > 1 ? width * static_cast<double>(i) / static_cast<double>(n - 1) : width / 2);
    };
    const auto py = [&](double y) { return y0 + height * (1 - (y - lo) / (hi - lo)); };
    std::string out =
        fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#888"/>)", x0, y0, width, height);
    out += fmt::format(R"(<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>)", x0, y0 - 8, title);
    for (int t = 0; t <= 4; ++t) {
      const double y = lo + (hi - lo) * t / 4;
      out +=
          fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#eee"/>)", x0, py(y), x0 + width, py(y));
      out += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.3g}</text>)", x0 - 4, py(y) + 4,
                         y);
    }
    const std::size_t every = std::max<std::size_t>(1, (n + 9) / 10);  // at most about ten labels
    for (std::size_t i = 0; i < n && i < epochs.size(); i += every) {
      out += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", px(i),
                         y0 + height + 16, epochs[i]);
    }
    for (std::size_t s = 0; s < series.size(); ++s) {
      std::string points;
      for (std::size_t i = 0; i < series[s].second.size(); ++i)
        points += fmt::format("{:.1f},{:.1f} ", px(i), py(series[s].second[i]));
      out += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)", points, colors[s]);
      out += fmt::format(
          R"(<text x="{}" y="{}" font-size="12" fill="{}">{}</text>)",  // above the frame, clear of the lines
          x0 + width - 110 + 60 * static_cast<double>(s), y0 - 8, colors[s], series[s].first);
    }
    return out;
  }
};

}  // namespace

void write_curves_svg(const std::string& path, const std::string& title, const std::vector<std::size_t>& epochs,
                      const std::vector<CurvePanel>& panels) {
  const std::vector<std::string> colors{"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  for (const CurvePanel& panel : panels) {
    if (panel.lines.size() > colors.size()) {
      throw std::invalid_argument(fmt::format("{}: the panel \"{}\" has {} lines, at most {} are drawn", path,
                                              panel.title, panel.lines.size(), colors.size()));
    }
  }
  const double width = 450.0 * static_cast<double>(std::max<std::size_t>(1, panels.size()));
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="380" font-family="sans-serif">)", width);
  svg += R"(<rect width="100%" height="100%" fill="white"/>)";
  svg += fmt::format(R"(<text x="{}" y="24" font-size="16" text-anchor="middle">{}</text>)", width / 2, title);
  for (std::size_t k = 0; k < panels.size(); ++k) {
    svg +=
        Panel{60 + 450.0 * static_cast<double>(k), 60, 340, 260, epochs}.svg(panels[k].title, panels[k].lines, colors);
  }
  svg += fmt::format(R"(<text x="{}" y="370" font-size="12" text-anchor="middle">epoch</text></svg>)", width / 2);
  std::ofstream out(path);
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write the learning curve", path));
  out << svg << "\n";
  finish(out, path);
}

void LearningCurve::write_svg(const std::string& path, const std::string& title) const {
  std::vector<double> train_loss, test_loss, train_acc, test_acc;
  std::vector<std::size_t> epochs;
  for (const EpochRecord& r : records_) {
    epochs.push_back(r.epoch);
    train_loss.push_back(r.train_loss);
    test_loss.push_back(r.test_loss);
    train_acc.push_back(r.train_accuracy);
    test_acc.push_back(r.test_accuracy);
  }
  write_curves_svg(path, title, epochs,
                   {{"loss", {{"train", train_loss}, {"test", test_loss}}},
                    {"accuracy", {{"train", train_acc}, {"test", test_acc}}}});
}

}  // namespace ag::nn
