// Checkpoints: a module's parameters by name in numpy's .npz format (a zip of .npy files), so
// that `numpy.load("model.npz")["fc1.weight"]` opens them as they are, and files numpy wrote
// (np.savez, np.savez_compressed) load here.
//
// A save is atomic and safe against concurrent writers (atomic_file.hpp): it writes a temporary
// file of its own in the same folder, syncs it to disk and renames it over `path`, so a reader
// sees the previous checkpoint or the new one, whole; a failure or a crash half-way leaves the
// previous checkpoint intact, and two threads or processes saving to one path leave one of their
// checkpoints, never a mix or an empty file.
//
// A load checks every name and shape before it changes anything, and says precisely what does
// not match. A file that is not a sound .npz is a CheckpointError naming the file and the fault,
// never a crash or a huge allocation: the zip container is read with libzip (CRC-32 of every
// array checked), every size in the zip directory and in each .npy header is checked with
// overflow checks against the others and against the file's size before anything is allocated,
// and a malformed header (negative, fractional or absurd dimensions, another dtype than float32
// or float64, Fortran order, a member twice) is refused by name.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nn/module.hpp"

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

// Arrays stored as `{name}.npy`, float32 for float tensors and float64 for double ones, in the
// order given; names must be distinct and not empty.
template <class T>
void save_arrays(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& arrays);
// The arrays of an .npz file, in the archive's order.
std::vector<NamedArray> load_arrays(const std::string& path);
// The same from the bytes of an .npz file in memory; `name` stands for the file in messages.
std::vector<NamedArray> parse_arrays(std::string_view bytes, const std::string& name);

template <class T>
void save(const Module<T>& module, const std::string& path);
template <class T>
void load(Module<T>& module, const std::string& path);

}  // namespace ag::nn
