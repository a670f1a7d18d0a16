// Checkpoints: a module's parameters by name in numpy's .npz format (a zip of .npy files), so
// that `numpy.load("model.npz")["fc1.weight"]` opens them as they are.
//
// A save is atomic: it writes `path.partial`, syncs it to disk and renames it over `path`, so a
// failure or a crash half-way leaves the previous checkpoint intact. A load checks every name
// and shape before it changes anything, and says precisely what does not match; a corrupt or
// truncated file is a CheckpointError naming the file and what is wrong with it.
#pragma once

#include "nn/module.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ag::nn {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A named array read from an .npz file, in double whatever its stored type (float32 or float64).
struct NamedArray {
  std::string name;
  Tensor<double> value;
};

// Arrays stored as `{name}.npy`, float32 for float tensors and float64 for double ones.
template <class T>
void save_arrays(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& arrays);
std::vector<NamedArray> load_arrays(const std::string& path);

template <class T>
void save(const Module<T>& module, const std::string& path);
template <class T>
void load(Module<T>& module, const std::string& path);

}  // namespace ag::nn
