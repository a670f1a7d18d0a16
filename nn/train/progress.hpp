// Training output: a progress bar per epoch on a terminal, plain lines elsewhere; and the
// learning curve, as CSV and as an SVG picture.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace ag::nn {

// One epoch's progress: `update` after each batch. On a terminal it redraws one line
//   epoch 3/10 [=========>          ] 412/938  loss 0.4123  acc 0.852  18234 ex/s  ETA 4s
// and on anything else (a log file, CI) prints nothing until `finish`, which prints one line.
class ProgressBar {
 public:
  ProgressBar(std::size_t epoch, std::size_t epochs, std::size_t batches, std::FILE* out = stdout);
  // `loss` and `accuracy` are the running means over the epoch so far.
  void update(std::size_t batch, std::size_t examples, double loss, double accuracy);
  // Ends the epoch's line; returns the seconds it took.
  double finish(const std::string& extra = "");
  bool on_terminal() const { return terminal_; }

 private:
  std::string line(std::size_t batch) const;

  std::size_t epoch_, epochs_, batches_, examples_ = 0;
  double loss_ = 0, accuracy_ = 0;
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

struct EpochRecord {
  std::size_t epoch;
  double train_loss, train_accuracy, test_loss, test_accuracy, seconds;
};

// Per-epoch series drawn as panels side by side, each with its named lines (at most four): the
// learning curve of any training, an auto-encoder's objective and mean activation, say.
struct CurvePanel {
  std::string title;
  std::vector<std::pair<std::string, std::vector<double>>> lines;  // a name, and a value per epoch
};
void write_curves_svg(const std::string& path, const std::string& title, const std::vector<std::size_t>& epochs,
                      const std::vector<CurvePanel>& panels);

// The per-epoch history of a training run.
class LearningCurve {
 public:
  void add(const EpochRecord& record) { records_.push_back(record); }
  const std::vector<EpochRecord>& records() const { return records_; }
  // epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds
  void write_csv(const std::string& path) const;
  // Two panels, loss and accuracy per epoch, train and test: opens in any browser.
  void write_svg(const std::string& path, const std::string& title) const;

 private:
  std::vector<EpochRecord> records_;
};

}  // namespace ag::nn
