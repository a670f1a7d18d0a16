// Prints the arrays of an .npz file, one per line: name, shape, then each value as the hex of its
// double's bits, for tests/we_read_numpy.py to compare with what numpy wrote, bit for bit.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <nn/io/checkpoint.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: read_checkpoint FILE.npz\n");
    return 2;
  }
  try {
    for (const ag::nn::NamedArray& a : ag::nn::load_arrays(argv[1])) {
      std::printf("%s %s", a.name.c_str(), ag::shape_str(ag::to_shape(a.value.shape())).c_str());
      for (const double v : a.value)
        std::printf(" %016llx", static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(v)));
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
