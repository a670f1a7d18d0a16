// bench_compare: this engine against libtorch, fairly.
//
//   bench_compare [--quick] [--threads 1,2] [--repeats P] [--workloads A,B] [--data DIR]
//                 [--blas-dir DIR] [--glibc-malloc-defaults] [--markdown]
//
// Each engine runs in a fresh process of its own (bench_worker_autograd, bench_worker_libtorch,
// beside this program), started with posix_spawn: never fork, since a child forked after GNU
// OpenMP has run can hang in its first parallel region, and an engine measured inside another's
// process runs slower than alone. Both processes get the same thread count (OMP_NUM_THREADS,
// OPENBLAS_NUM_THREADS and each engine's own setting) and the same OpenBLAS: by default Debian's
// OpenMP build (libopenblas0-openmp), chosen for those processes alone through LD_LIBRARY_PATH,
// since Debian's default pthread build fights libtorch's OpenMP pool. Each worker reports the
// OpenBLAS it actually loaded, and the driver refuses a run on another one.
//
// Both processes also run with glibc's malloc told to keep freed memory (MALLOC_MMAP_THRESHOLD_
// at its 32 MiB maximum, MALLOC_TRIM_THRESHOLD_ at 1 GiB). By default glibc hands large freed blocks back to the
// system and faults them in again on the next step; libtorch allocates every tensor afresh, and on
// these virtual machines those page faults made its MLP step several times slower (6.6 ms against
// 0.9 ms at batch 64). This engine's block cache does not pay it. The setting is the best a
// libtorch user gets from an environment variable, so the ratios are the conservative ones;
// --glibc-malloc-defaults measures what an untuned program sees.
//
// For every thread count, the P repeats alternate which engine goes first; each process warms up
// and times R rounds of every workload. A figure is the median over all rounds of all repeats,
// with the quartiles as its spread; a ratio whose quartile band includes 1 is marked as within
// noise. Then, with Fashion-MNIST in DIR (default /usr/share/datasets/fashion-mnist), each training
// epoch the workers list (the MLP's with Adam, the LeNet-like convnet's with SGD) once per engine
// and thread count, each in a process of its own: examples per second and the process's peak
// resident memory (ru_maxrss), counted from when the data set has been read (the worker resets the
// mark then): the 188 MB of images both hold, the engine's code and what training takes. The epochs are a mode of their
// own rather than workloads with 60,000 items: they run once, not in timed rounds, read the data set, and their peak
// memory is only theirs when nothing else ran in the process. --quick (CI) takes shorter rounds, one repeat, and each
// epoch's first 6,400 images. --workloads runs only the workloads and epochs named.
//
// Workloads with a flop count (the batch-256 MLP and auto-encoder steps, the LeNet step, the
// convolution layer and the RBM's CD-1 step) are given in GFLOP/s beside this engine's
// sgemm_1024, which runs whenever one of them does.
//
// A workload that both engines start from the same parameters (the sparse auto-encoder, the
// LeNet-like step, the RBM's CD-1 step, whose Gibbs draws read the same pre-drawn uniforms in
// both) has its objective printed by each worker before and after its first two steps (the
// convolution layer, which has no parameters to update, prints a figure of its forward and its
// gradients instead); the driver refuses a run in which the engines' values differ by more than
// a relative 1e-4: the engines would not be computing the same thing. Exits non-zero when a
// worker fails or outlives its time limit.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// Multiply-adds of the 784-256-128-10 MLP per example, times 2 (flops): forward, then backward
// (weight gradients for every layer, input gradients for all but the first).
constexpr double kMlpFlopsPerExample =
    2.0 * (2 * (784.0 * 256 + 256.0 * 128 + 128.0 * 10) + (256.0 * 128 + 128.0 * 10));
// The same for the 784-196-784 auto-encoder: two products forward, three backward (the input
// needs no gradient).
constexpr double kAutoEncoderFlopsPerExample = 2.0 * 5 * 784.0 * 196;

// The multiply-adds of one convolution, times 2: [n, c, oh + kh - 1 - 2 pad, ...] * [f, c, kh, kw]
// -> [n, f, oh, ow]. Its input gradient and its weight gradient cost as much again each.
constexpr double conv_flops(double n, double c, double f, double kh, double kw, double oh, double ow) {
  return 2 * n * f * c * kh * kw * oh * ow;
}
// The LeNet-like step at batch 64: the first convolution forward and its weight gradient (the
// images need none), the second one forward and both gradients, the linear layer 784->10 forward
// and both gradients. Pooling, ReLU, the biases and the loss are not counted.
constexpr double kLeNetFlops =
    2 * conv_flops(64, 1, 8, 5, 5, 28, 28) + 3 * conv_flops(64, 8, 16, 5, 5, 14, 14) + 3 * 2.0 * 64 * 784 * 10;
// The 32->64 3x3 layer on 28x28 at batch 64, forward and both gradients.
constexpr double kConvLayerFlops = 3 * conv_flops(64, 32, 64, 3, 3, 28, 28);
// One CD-1 step of the 784 x 256 RBM at batch 64: six products of [64, 784] and [784, 256]'s
// size, two in the Gibbs step (v0 W, h W'), two in the loss's free energies (v0 W again, v1 W) and
// the two halves of W's gradient (v0' g0, v1' g1). The matrix-vector products (v b, b's gradient),
// the sigmoids, softplus and the update are not counted.
constexpr double kRbmCd1Flops = 6 * 2.0 * 64 * 784 * 256;

// The flops of one item of a workload, for its GFLOP/s figure against sgemm; 0 for none.
double flops_of(const std::string& workload) {
  if (workload == "lenet_step_batch64") return kLeNetFlops;
  if (workload == "rbm_cd1_step_784x256_batch64") return kRbmCd1Flops;
  if (workload.rfind("conv_layer_", 0) == 0) return kConvLayerFlops;  // the layer, and its products alone
  if (workload.find("batch256") == std::string::npos) return 0;
  if (workload.rfind("mlp_", 0) == 0) return kMlpFlopsPerExample * 256;
  if (workload.find("autoencoder_") != std::string::npos) return kAutoEncoderFlopsPerExample * 256;
  return 0;
}

// The largest relative difference the engines' objectives may show (float32 sums in another order).
constexpr double kObjectiveTolerance = 1e-4;

struct Options {
  bool quick = false, markdown = false, glibc_malloc_defaults = false;
  std::vector<int> threads = {1, 2};
  int repeats = 3, rounds = 5;
  double round_seconds = 0.1, time_limit = 600;
  long epoch_examples = 0;  // 0: the whole training set; --quick: the first 6,400 images of each epoch
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string blas_dir = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
  std::string workloads;  // comma-separated; empty: all
};

struct Output {
  std::string text;
  double peak_mb = 0;
};

// Runs `argv` with `env_overrides` added to this process's environment; returns its standard
// output. Throws when it cannot start, exits non-zero, or runs past `limit` seconds (it is killed).
Output run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env_overrides,
           double limit) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (!env_overrides.count(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [key, value] : env_overrides) env.push_back(key + "=" + value);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(spawned)));
  }

  Output out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
  bool timed_out = false;
  for (char buffer[4096];;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    int ready = 0;
    do {
      ready = left.count() <= 0 ? 0 : poll(&p, 1, static_cast<int>(left.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    out.text.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  out.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  if (timed_out)
    throw std::runtime_error(fmt::format("`{}` ran past its {:.0f} s limit and was killed", command, limit));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format(
        "`{}` failed ({})", command,
        WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : fmt::format("signal {}", WTERMSIG(status))));
  }
  return out;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

struct Spread {
  double median = 0, p25 = 0, p75 = 0;
};

Spread spread_of(const std::vector<double>& rounds) {
  return {quantile(rounds, 0.5), quantile(rounds, 0.25), quantile(rounds, 0.75)};
}

std::string duration(double ns) {
  if (ns >= 1e6) return fmt::format("{:.3g} ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.3g} us", ns / 1e3);
  return fmt::format("{:.3g} ns", ns);
}

std::vector<int> parse_threads(const std::string& list) {
  std::vector<int> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const int n = std::atoi(item.c_str());
    if (n < 1) throw std::invalid_argument("--threads: expected a list such as 1,2, not " + list);
    out.push_back(n);
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  std::optional<int> repeats, rounds;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--markdown") {
      o.markdown = true;
    } else if (a == "--glibc-malloc-defaults") {
      o.glibc_malloc_defaults = true;
    } else if (a == "--threads") {
      o.threads = parse_threads(value());
    } else if (a == "--repeats") {
      repeats = std::atoi(value().c_str());
    } else if (a == "--rounds") {
      rounds = std::atoi(value().c_str());
    } else if (a == "--workloads") {
      o.workloads = value();
    } else if (a == "--data") {
      o.data = value();
    } else if (a == "--blas-dir") {
      o.blas_dir = value();
    } else {
      throw std::invalid_argument(
          "unknown option " + a +
          " (options: --quick --threads LIST --repeats P --rounds R --workloads LIST --data DIR "
          "--blas-dir DIR --glibc-malloc-defaults --markdown)");
    }
  }
  if (o.quick) {
    o.repeats = 1;
    o.rounds = 3;
    o.round_seconds = 0.02;
    o.time_limit = 300;
    o.epoch_examples = 6400;
  }
  o.repeats = repeats.value_or(o.repeats);
  o.rounds = rounds.value_or(o.rounds);
  if (o.repeats < 1 || o.rounds < 1) throw std::invalid_argument("--repeats and --rounds must be at least 1");
  return o;
}

// rounds[engine][threads][workload]: ns per item, every round of every repeat.
using Rounds = std::map<std::string, std::map<int, std::map<std::string, std::vector<double>>>>;
// objectives[engine][workload]: the objective before and after the first steps, from one run each.
using Objectives = std::map<std::string, std::map<std::string, std::vector<double>>>;

// The workloads in the order the workers run them, every workload and epoch a worker has, and the
// epochs in the order the workers list them.
std::vector<std::string> workload_order, epoch_order;
std::set<std::string> known_workloads;

// Reads a worker's output into `rounds`; checks the OpenBLAS it reports.
void read_worker(const std::string& engine, int threads, const std::string& text, const std::string& expected_blas,
                 Rounds& rounds, Objectives& objectives) {
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::stringstream words(line);
    std::string kind, name;
    words >> kind;
    if (kind == "blas") {
      words >> name;
      if (!expected_blas.empty() && name != expected_blas) {
        throw std::runtime_error(
            fmt::format("{} ran on the {} OpenBLAS, not the {} one asked for", engine, name, expected_blas));
      }
    } else if (kind == "rounds") {
      words >> name;
      if (std::find(workload_order.begin(), workload_order.end(), name) == workload_order.end()) {
        workload_order.push_back(name);
      }
      for (double ns; words >> ns;) rounds[engine][threads][name].push_back(ns);
    } else if (kind == "workloads") {
      while (words >> name) known_workloads.insert(name);
    } else if (kind == "epochs") {
      while (words >> name) {
        known_workloads.insert(name);
        if (std::find(epoch_order.begin(), epoch_order.end(), name) == epoch_order.end()) epoch_order.push_back(name);
      }
    } else if (kind == "objective") {
      words >> name;
      std::vector<double>& values = objectives[engine][name];
      values.clear();
      for (double j; words >> j;) values.push_back(j);
    }
  }
}

// Whether --workloads (empty: all of them) names `workload`.
bool selected(const Options& o, const std::string& workload) {
  return o.workloads.empty() || ("," + o.workloads + ",").find("," + workload + ",") != std::string::npos;
}

// Throws when --workloads names a workload that no worker has (after the first run of each).
void check_selection(const Options& o) {
  std::stringstream in(o.workloads);
  for (std::string name; std::getline(in, name, ',');) {
    if (!known_workloads.count(name)) {
      throw std::invalid_argument(
          fmt::format("--workloads: no workload {} (there are {})", name, fmt::join(known_workloads, ", ")));
    }
  }
}

// Throws unless both engines' objectives agree within kObjectiveTolerance; prints them when `print`.
void check_objectives(const Objectives& objectives, int threads, bool print) {
  if (objectives.size() < 2) return;
  const auto& ours = objectives.at("autograd");
  const auto theirs_it = objectives.find("libtorch");
  if (theirs_it == objectives.end()) return;
  for (const auto& [name, a] : ours) {
    const auto b_it = theirs_it->second.find(name);
    if (b_it == theirs_it->second.end()) continue;
    const std::vector<double>& b = b_it->second;
    double worst = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(a[i]), std::abs(b[i])));
    }
    if (print || !(worst <= kObjectiveTolerance)) {
      fmt::print(
          "{{\"objective\": \"{}\", \"threads\": {}, \"autograd\": [{:.7g}], \"libtorch\": [{:.7g}], "
          "\"max_relative_difference\": {:.2g}}}\n",
          name, threads, fmt::join(a, ", "), fmt::join(b, ", "), worst);
    }
    if (!(worst <= kObjectiveTolerance)) {
      throw std::runtime_error(fmt::format(
          "{} at {} threads: the engines' objectives differ by a relative {:.2g} (more than {:g}): they do not "
          "compute the same thing",
          name, threads, worst, kObjectiveTolerance));
    }
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const fs::path here = fs::canonical("/proc/self/exe").parent_path();
  std::vector<std::string> engines = {"autograd"};
  if (fs::exists(here / "bench_worker_libtorch")) {
    engines.push_back("libtorch");
  } else {
    fmt::print(stderr, "bench_compare: libtorch not built (install libtorch-dev and reconfigure): autograd only\n");
  }
  std::map<std::string, std::string> base_env;
  std::string expected_blas;
  if (!o.blas_dir.empty()) {
    if (!fs::exists(fs::path(o.blas_dir) / "libopenblas.so.0")) {
      throw std::runtime_error(
          fmt::format("no libopenblas.so.0 in {} (install libopenblas0-openmp, or pass "
                      "--blas-dir '' to keep the system's OpenBLAS)",
                      o.blas_dir));
    }
    const char* old = std::getenv("LD_LIBRARY_PATH");
    base_env["LD_LIBRARY_PATH"] = o.blas_dir + (old && *old ? std::string(":") + old : "");
    expected_blas = o.blas_dir.find("openmp") != std::string::npos    ? "openmp"
                    : o.blas_dir.find("pthread") != std::string::npos ? "pthread"
                                                                      : "";
  }

  if (!o.glibc_malloc_defaults) {
    base_env["MALLOC_MMAP_THRESHOLD_"] = std::to_string(1u << 25);
    base_env["MALLOC_TRIM_THRESHOLD_"] = std::to_string(1u << 30);
  }
  fmt::print(
      stderr, "bench_compare: OpenBLAS {}, glibc malloc {}\n", o.blas_dir.empty() ? "as installed" : o.blas_dir,
      o.glibc_malloc_defaults ? "defaults" : "keeping freed memory (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)");

  // The environment of a worker at `threads` threads.
  const auto env_for = [&base_env](int threads) {
    auto env = base_env;
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = std::to_string(threads);
    return env;
  };

  // The workloads the workers are asked for: those named, and sgemm_1024 beside any with a flop count.
  std::string worker_workloads = o.workloads;
  if (!o.workloads.empty() && !selected(o, "sgemm_1024")) {
    std::stringstream in(o.workloads);
    for (std::string name; std::getline(in, name, ',');) {
      if (flops_of(name) > 0) {
        worker_workloads += ",sgemm_1024";
        break;
      }
    }
  }

  Rounds rounds;
  for (int repeat = 0; repeat < o.repeats; ++repeat) {
    for (int threads : o.threads) {
      const auto env = env_for(threads);
      Objectives objectives;
      for (std::size_t k = 0; k < engines.size(); ++k) {
        const std::string& engine = engines[(k + static_cast<std::size_t>(repeat)) % engines.size()];
        std::vector<std::string> command = {(here / ("bench_worker_" + engine)).string(),
                                            "--threads",
                                            std::to_string(threads),
                                            "--rounds",
                                            std::to_string(o.rounds),
                                            "--round-seconds",
                                            fmt::format("{}", o.round_seconds)};
        if (!o.workloads.empty()) command.insert(command.end(), {"--workloads", worker_workloads});
        const Output out = run(command, env, o.time_limit);
        read_worker(engine, threads, out.text, expected_blas, rounds, objectives);
      }
      if (repeat == 0 && threads == o.threads.front()) check_selection(o);
      check_objectives(objectives, threads, repeat == 0);
    }
  }

  std::vector<std::string> table;
  for (int threads : o.threads) {
    const auto& ours_all = rounds["autograd"][threads];
    double sgemm_gflops = 0;
    if (ours_all.count("sgemm_1024")) {
      sgemm_gflops = 2.0 * 1024 * 1024 * 1024 / spread_of(ours_all.at("sgemm_1024")).median;
      fmt::print("{{\"bench\": \"sgemm_1024\", \"threads\": {}, \"gflops\": {:.1f}}}\n", threads, sgemm_gflops);
    }
    for (const std::string& name : workload_order) {
      if (name == "sgemm_1024" || !ours_all.count(name)) continue;
      const std::vector<double>& ours_rounds = ours_all.at(name);
      const Spread ours = spread_of(ours_rounds);
      std::string line = fmt::format(
          "{{\"bench\": \"{}\", \"threads\": {}, \"autograd_ns\": {:.1f}, "
          "\"autograd_p25_ns\": {:.1f}, \"autograd_p75_ns\": {:.1f}",
          name, threads, ours.median, ours.p25, ours.p75);
      std::string row = fmt::format("| {} | {} | {} ({}-{})", name, threads, duration(ours.median), duration(ours.p25),
                                    duration(ours.p75));
      std::string rate;
      if (flops_of(name) > 0 && sgemm_gflops > 0) {
        const double gflops = flops_of(name) / ours.median;
        line += fmt::format(", \"gflops\": {:.1f}, \"fraction_of_sgemm\": {:.2f}", gflops, gflops / sgemm_gflops);
        rate = fmt::format("; {:.0f} GFLOP/s, {:.2f} of sgemm's {:.0f}", gflops, gflops / sgemm_gflops, sgemm_gflops);
      }
      const auto theirs_it = rounds["libtorch"][threads].find(name);
      if (theirs_it != rounds["libtorch"][threads].end()) {
        const Spread theirs = spread_of(theirs_it->second);
        const double ratio = theirs.median / ours.median;
        const bool noise = theirs.p25 / ours.p75 <= 1.0 && theirs.p75 / ours.p25 >= 1.0;
        line += fmt::format(
            ", \"libtorch_ns\": {:.1f}, \"libtorch_p25_ns\": {:.1f}, \"libtorch_p75_ns\": {:.1f}, "
            "\"speedup_vs_libtorch\": {:.2f}, \"within_noise\": {}",
            theirs.median, theirs.p25, theirs.p75, ratio, noise);
        std::string their_rate;
        if (flops_of(name) > 0 && sgemm_gflops > 0) {
          const double gflops = flops_of(name) / theirs.median;
          line += fmt::format(", \"libtorch_gflops\": {:.1f}", gflops);
          their_rate = fmt::format("; {:.0f} GFLOP/s", gflops);
        }
        row += fmt::format("{} | {} ({}-{}){} | {:.2f}x{} |", rate, duration(theirs.median), duration(theirs.p25),
                           duration(theirs.p75), their_rate, ratio, noise ? " (within noise)" : "");
      } else {
        row += rate + " | | |";
      }
      fmt::print("{}}}\n", line);
      table.push_back(row);
    }
  }
  std::fflush(stdout);

  std::vector<std::string> epochs;
  for (const std::string& name : epoch_order) {
    if (selected(o, name)) epochs.push_back(name);
  }
  if (epochs.empty()) {
    // Not asked for.
  } else if (fs::exists(fs::path(o.data) / "train-images-idx3-ubyte.gz") ||
             fs::exists(fs::path(o.data) / "train-images-idx3-ubyte")) {
    for (const std::string& name : epochs) {
      for (int threads : o.threads) {
        const auto env = env_for(threads);
        std::map<std::string, std::pair<double, double>> epoch;  // examples/s, peak MB
        for (const std::string& engine : engines) {
          const Output out = run({(here / ("bench_worker_" + engine)).string(), "--threads", std::to_string(threads),
                                  "--epoch", name, "--data", o.data, "--examples", std::to_string(o.epoch_examples)},
                                 env, o.time_limit);
          std::stringstream in(out.text);
          double examples = 0, seconds = 0;
          for (std::string word; in >> word;) {
            if (word == "epoch") in >> examples >> seconds;
          }
          if (seconds <= 0) throw std::runtime_error(engine + ": the epoch worker printed no time");
          epoch[engine] = {examples / seconds, out.peak_mb};
        }
        std::string line = fmt::format("{{\"bench\": \"{}\", \"threads\": {}", name, threads);
        std::string row = fmt::format("| {} | {} |", name, threads);
        for (const auto& [engine, figures] : epoch) {
          line += fmt::format(", \"{}_examples_per_s\": {:.0f}, \"{}_peak_mb\": {:.0f}", engine, figures.first, engine,
                              figures.second);
          row += fmt::format(" {:.0f} examples/s, peak {:.0f} MB |", figures.first, figures.second);
        }
        if (epoch.count("libtorch")) {
          const double ratio = epoch["autograd"].first / epoch["libtorch"].first;
          line += fmt::format(", \"speedup_vs_libtorch\": {:.2f}", ratio);
          row += fmt::format(" {:.2f}x (one epoch each: no spread) |", ratio);
        }
        fmt::print("{}}}\n", line);
        std::fflush(stdout);
        table.push_back(row);
      }
    }
  } else {
    fmt::print(stderr, "bench_compare: no Fashion-MNIST in {}: epoch figures skipped\n", o.data);
  }

  if (o.markdown) {
    fmt::print(
        "\n| workload | threads | autograd: median (quartiles) | libtorch: median (quartiles) | libtorch / "
        "autograd |\n| --- | --- | --- | --- | --- |\n");
    for (const auto& row : table) fmt::print("{}\n", row);
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "bench_compare: {}\n", e.what());
  return 1;
}
