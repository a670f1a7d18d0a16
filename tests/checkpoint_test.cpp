// Checkpoints: numpy's .npz layout, round trips, precise mismatch errors, corrupt files, and a
// failed save that leaves the previous checkpoint intact.
#include "test_util.hpp"

#include <nn/nn.hpp>

namespace nn = ag::nn;

namespace {

struct Net : nn::Module<float> {
  explicit Net(std::size_t hidden) {
    fc1 = register_module("fc1", nn::linear<float>(3, hidden));
    fc2 = register_module("fc2", nn::linear<float>(hidden, 2));
  }
  std::shared_ptr<nn::Linear<float>> fc1, fc2;
};

std::string load_error(nn::Module<float>& m, const std::string& path) {
  try {
    nn::load(m, path);
  } catch (const nn::CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a module saves as .npz and loads back exactly") {
  test::TempDir dir;
  nn::manual_seed(1);
  Net a(4);
  nn::manual_seed(2);
  Net b(4);
  REQUIRE(a.fc1->weight().value() != b.fc1->weight().value());
  nn::save(a, dir / "net.npz");
  nn::load(b, dir / "net.npz");
  for (std::size_t i = 0; i < 4; ++i) CHECK(a.parameters()[i].value() == b.parameters()[i].value());

  // numpy's layout: a zip whose entries are NAME.npy, each a v1.0 .npy header then little-endian float32.
  const std::string bytes = test::read_bytes(dir / "net.npz");
  CHECK(bytes.compare(0, 4, "PK\x03\x04") == 0);
  CHECK(bytes.find("fc1.weight.npy") != std::string::npos);
  CHECK(bytes.find("\x93NUMPY\x01") != std::string::npos);
  CHECK(bytes.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") != std::string::npos);
  CHECK(bytes.find("'shape': (4,), }") != std::string::npos);
  const auto arrays = nn::load_arrays(dir / "net.npz");
  CHECK(arrays.size() == 4);
  CHECK(arrays[0].name == "fc1.weight");
}

TEST_CASE("a load says precisely what does not match, and changes nothing") {
  test::TempDir dir;
  Net small(4), big(5);
  nn::save(small, dir / "small.npz");
  const auto before = big.fc1->weight().value();
  const std::string shape = load_error(big, dir / "small.npz");
  CHECK(shape.find("'fc1.weight' is [3, 4] in the file but [3, 5] in the model") != std::string::npos);
  CHECK(shape.find("nothing was loaded") != std::string::npos);
  CHECK(big.fc1->weight().value() == before);

  nn::save_arrays<float>(dir / "other.npz", {{"fc1.weight", ag::full<float>({3, 4}, 0.0f)}, {"extra", ag::full<float>({1}, 0.0f)}});
  const std::string names = load_error(small, dir / "other.npz");
  CHECK(names.find("missing from the file: fc1.bias, fc2.weight, fc2.bias") != std::string::npos);
  CHECK(names.find("in the file but not in the model: extra") != std::string::npos);
}

TEST_CASE("a corrupt or truncated checkpoint names the file and the fault") {
  test::TempDir dir;
  Net net(4);
  nn::save(net, dir / "net.npz");
  const std::string bytes = test::read_bytes(dir / "net.npz");

  test::write_bytes(dir / "truncated.npz", bytes.substr(0, bytes.size() / 2));
  const std::string truncated = load_error(net, dir / "truncated.npz");
  CHECK(truncated.find(dir / "truncated.npz") != std::string::npos);
  CHECK(truncated.find("truncated") != std::string::npos);

  std::string flipped = bytes;
  flipped[bytes.find("\x93NUMPY") + 130] ^= 0x01;  // inside the first array's data (its header is 128 bytes)
  test::write_bytes(dir / "flipped.npz", flipped);
  CHECK(load_error(net, dir / "flipped.npz").find("CRC mismatch") != std::string::npos);

  test::write_bytes(dir / "text.npz", "this is not a checkpoint at all, only some text");
  CHECK(load_error(net, dir / "text.npz").find("not an .npz file") != std::string::npos);
  CHECK(load_error(net, dir / "absent.npz").find("cannot open") != std::string::npos);
}

TEST_CASE("a failed save leaves the previous checkpoint intact") {
  test::TempDir dir;
  nn::manual_seed(5);
  Net first(4);
  const std::string path = dir / "net.npz";
  nn::save(first, path);
  const std::string saved = test::read_bytes(path);

  // A crash half-way through an earlier save left its partial file behind: the checkpoint is
  // untouched by it, and the next save replaces it.
  test::write_bytes(path + ".partial", saved.substr(0, 100));
  Net check(4);
  nn::load(check, path);
  CHECK(check.fc1->weight().value() == first.fc1->weight().value());

  // A save that cannot write its partial file fails with a clear error and touches nothing.
  std::filesystem::remove(path + ".partial");
  std::filesystem::create_directory(path + ".partial");
  nn::manual_seed(6);
  Net second(4);
  CHECK_THROWS_WITH_AS(nn::save(second, path), doctest::Contains("the previous checkpoint, if any, is unchanged"),
                       nn::CheckpointError);
  CHECK(test::read_bytes(path) == saved);
  std::filesystem::remove(path + ".partial");
  nn::save(second, path);
  nn::load(check, path);
  CHECK(check.fc1->weight().value() == second.fc1->weight().value());
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
}
