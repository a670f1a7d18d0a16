// Writes a small module's checkpoint for tests/numpy_reads_checkpoint.py, which opens it with
// numpy; with `--forever VALUE`, saves a larger module, every parameter filled with VALUE, over
// and over until it is killed (the test of processes killed during a save).
#include <cstdio>
#include <cstdlib>
#include <nn/nn.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[2]) == "--forever") {
    ag::nn::Sequential<float> net{ag::nn::linear<float>(128, 128), ag::nn::linear<float>(128, 10)};
    for (auto& p : net.parameters()) p.mutable_value().fill(std::strtof(argv[3], nullptr));
    // A save that fails (another writer's doing, in a broken implementation) does not stop the
    // others: the test is for what readers see.
    while (true) {
      try {
        ag::nn::save(net, argv[1]);
      } catch (const ag::nn::CheckpointError&) {
      }
    }
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_checkpoint FILE.npz [--forever VALUE]\n");
    return 2;
  }
  ag::nn::Sequential<float> net{ag::nn::linear<float>(3, 2)};
  net.parameters()[0].mutable_value() = ag::Tensor<float>{{0.5f, -1.0f}, {1.5f, -2.0f}, {0.25f, 4.0f}};
  net.parameters()[1].mutable_value() = ag::Tensor<float>{0.125f, -8.0f};
  ag::nn::save(net, argv[1]);
  return 0;
}
