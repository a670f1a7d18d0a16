// What the Fashion-MNIST tutorials share: their --seed, --data and --threads options, and one
// split read, its failure told the way cli.hpp tells them.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <nn/nn.hpp>
#include <string>

#include "cli.hpp"

namespace tutorial {

// --seed N: `what` says what it seeds.
inline void add_seed_option(CLI::App& app, std::uint64_t& seed, const std::string& what) {
  app.add_option("--seed", seed, what + ", 0 to 2^64 - 1")
      ->type_name("N")
      ->check(whole<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
}

// --data DIR: `files` says which IDX files the program reads.
inline void add_data_option(CLI::App& app, std::string& folder, const std::string& files) {
  app.add_option("--data", folder, "folder of the IDX files " + files + " (plain or .gz)")
      ->type_name("DIR")
      ->check(nonempty_path())
      ->capture_default_str();
}

// --threads N, for ag::set_num_threads.
inline void add_threads_option(CLI::App& app, std::size_t& threads) {
  app.add_option("--threads", threads, "threads for the engine and OpenBLAS (ag::set_num_threads), 1 to 256")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 256))
      ->capture_default_str();
}

// The "train" or "t10k" split of the IDX files in `folder`. Missing or corrupt data is a Failure
// (exit 1) naming the file and what is wrong, and saying where Debian's package puts the data.
inline ag::nn::LabelledImages load_fashion_mnist(const std::string& folder, const std::string& split) {
  try {
    return ag::nn::load_mnist(folder, split);
  } catch (const ag::nn::DataError& e) {
    throw Failure(fmt::format("{} (install the data with `apt-get install dataset-fashion-mnist`, or pass --data DIR)",
                              one_line(e.what())));
  }
}

}  // namespace tutorial
