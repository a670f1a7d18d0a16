// Fashion-MNIST for the tutorials: one split read, its failure told the way cli.hpp tells them.
#pragma once

#include <fmt/format.h>

#include <nn/nn.hpp>
#include <string>

#include "cli.hpp"

namespace tutorial {

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
