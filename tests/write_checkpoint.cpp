// Writes a small module's checkpoint for tests/numpy_reads_checkpoint.py, which opens it with numpy.
#include <nn/nn.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_checkpoint FILE.npz\n");
    return 2;
  }
  ag::nn::Sequential<float> net{ag::nn::linear<float>(3, 2)};
  net.parameters()[0].value() = ag::Tensor<float>{{0.5f, -1.0f}, {1.5f, -2.0f}, {0.25f, 4.0f}};
  net.parameters()[1].value() = ag::Tensor<float>{0.125f, -8.0f};
  ag::nn::save(net, argv[1]);
  return 0;
}
