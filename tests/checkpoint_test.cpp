// Checkpoints: numpy's .npz layout, round trips, precise mismatch errors, corrupt files, and a
// failed save that leaves the previous checkpoint intact.
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nn/io/atomic_file.hpp>
#include <nn/nn.hpp>
#include <random>
#include <set>
#include <thread>

#include "test_util.hpp"
#include "zip_builder.hpp"

namespace nn = ag::nn;

namespace {

struct Net : nn::Module<float> {
  explicit Net(std::size_t hidden) {
    fc1 = register_module("fc1", nn::linear<float>(3, hidden));
    fc2 = register_module("fc2", nn::linear<float>(hidden, 2));
  }
  std::shared_ptr<nn::Linear<float>> fc1, fc2;
};

std::string arrays_error(const std::string& path) {
  return test::error_of<nn::CheckpointError>([&] { nn::load_arrays(path); });
}

// What loading an .npz holding one member `name` with these bytes says.
std::string member_error(const test::TempDir& dir, const std::string& npy_bytes, const std::string& name = "a.npy") {
  const std::string path = dir / "m.npz";
  test::write_bytes(path, test::zip({test::stored(name, npy_bytes)}));
  return arrays_error(path);
}

// The names in `dir`.
std::set<std::string> listing(const test::TempDir& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir / ""))
    names.insert(entry.path().filename().string());
  return names;
}

// Every value of every array of the checkpoint at `path`, if they are all one value.
std::optional<double> uniform_value(const std::string& path) {
  std::optional<double> value;
  for (const nn::NamedArray& a : nn::load_arrays(path)) {
    for (double v : a.value) {
      if (value && *value != v) return std::nullopt;
      value = v;
    }
  }
  return value;
}

std::string load_error(nn::Module<float>& m, const std::string& path) {
  return test::error_of<nn::CheckpointError>([&] { nn::load(m, path); });
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

  nn::save_arrays<float>(dir / "other.npz",
                         {{"fc1.weight", ag::full<float>({3, 4}, 0.0f)}, {"extra", ag::full<float>({1}, 0.0f)}});
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

TEST_CASE("a malformed .npy header in a checkpoint is an error naming the file, the array and the fault") {
  test::TempDir dir;
  const std::string path = dir / "m.npz";
  const auto header = [](const std::string& descr, const std::string& fortran, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  };
  const auto error = [&](const std::string& text, const std::string& data = "") {
    return member_error(dir, test::npy(text, data));
  };
  const std::string twelve(12, '\0');
  // The control: a sound member loads.
  CHECK(error(header("<f4", "False", "(3,)"), twelve) == "(no exception)");

  const std::string negative = header("<f4", "False", "(-3,)");
  CHECK(error(negative) == path + ": array 'a': malformed header \"" + negative +
                               "\": negative dimension -3 (at byte " + std::to_string(negative.find("-3")) + ")");
  CHECK(error(header("<f4", "False", "(3.5,)")).find("dimension 3.5 is not a whole number") != std::string::npos);
  CHECK(error(header("<f4", "False", "(1e3,)")).find("dimension 1e3 is not a whole number") != std::string::npos);
  CHECK(error(header("<f4", "False", "(99999999999999999999,)")).find("dimension 99999999999999999999 is too large") !=
        std::string::npos);
  CHECK(error(header("<f4", "False", "(18446744073709551615,)")).find("is too large") != std::string::npos);
  CHECK(error(header("<f4", "False", "(4611686018427387904,)")) ==
        path + ": array 'a': shape [4611686018427387904] has more elements than memory can address");
  CHECK(error(header("<f8", "False", "(4294967296, 4294967296)")).find("has more elements than memory can address") !=
        std::string::npos);
  // Empty, yet the other dimensions multiply past PTRDIFF_MAX: refused as numpy refuses it.
  CHECK(error(header("<f4", "False", "(0, 4294967296, 4294967296)")) ==
        path + ": array 'a': shape [0, 4294967296, 4294967296] has more elements than memory can address");
  CHECK(error(header("<f4", "False", "(1000000,)"), twelve) ==
        path + ": array 'a': shape [1000000] of float32 needs 4000000 bytes of data, the array holds 12");
  // The descr says float64, the data is three float32s.
  CHECK(error(header("<f8", "False", "(3,)"), twelve) ==
        path + ": array 'a': shape [3] of float64 needs 24 bytes of data, the array holds 12");
  CHECK(error(header("<i8", "False", "(3,)"), twelve).find("stored as '<i8'; only float32 and float64 load") !=
        std::string::npos);
  CHECK(error(header("<f4", "True", "(3,)"), twelve).find("Fortran order") != std::string::npos);
  CHECK(error(header("<f4", "False", "(3)"), twelve).find("written (n,), with a comma") != std::string::npos);
  CHECK(error("{'descr': '<f4', 'shape': (3,), }", twelve).find("no 'fortran_order'") != std::string::npos);
  CHECK(error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", twelve)
            .find("'descr' appears twice") != std::string::npos);
  CHECK(error("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", twelve).find("unexpected key 'x'") !=
        std::string::npos);
  CHECK(error(header("<f4", "False", "(3,)") + "junk", twelve).find("text after the closing '}'") != std::string::npos);
  CHECK(error("{'descr': '<f4, 'fortran_order': False", twelve).find("malformed header") != std::string::npos);
  CHECK(error(std::string("{'descr\0", 8), twelve).find("malformed header \"{'descr\\x00") != std::string::npos);
  CHECK(member_error(dir, std::string("\x93NUMPY\x09\x00\x10\x00", 10) + std::string(16, ' '))
            .find("unsupported .npy version 9.0") != std::string::npos);
  CHECK(member_error(dir, std::string("\x93NUMPY\x01\x00\xff\xff{}", 12))
            .find("its header of 65535 bytes runs past the array's 12 bytes") != std::string::npos);
  CHECK(member_error(dir, "PK not numpy").find("no \\x93NUMPY magic") != std::string::npos);
  CHECK(member_error(dir, test::npy(header("<f4", "False", "(3,)"), twelve), "a.txt") ==
        path + ": 'a.txt' is not a .npy array");
}

TEST_CASE("checkpoint sizes are checked against the file before anything is allocated") {
  test::TempDir dir;
  const std::string path = dir / "m.npz";
  // A tiny .npz whose array says shape (2^62,) (the was 254 bytes): a clear error, no crash.
  const std::string npy = test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }");
  const std::string small = test::zip({test::stored("w.npy", npy)});
  test::write_bytes(path, small);
  CHECK(arrays_error(path) ==
        path + ": array 'w': shape [4611686018427387904] has more elements than memory can address");

  // A zip directory declaring 4 GiB uncompressed for a few hundred deflated bytes (0xffffffff
  // would mean "see the zip64 field").
  test::ZipMember bomb = test::stored("w.npy", test::deflate_raw(test::npy("{'descr': '<f4', 'fortran_order': False, "
                                                                           "'shape': (1073741823,), }")));
  bomb.method = 8;
  bomb.size = 0xfffffff0u;
  test::write_bytes(path, test::zip({bomb}));
  const std::string declared = arrays_error(path);
  CHECK(declared.find(path + ": 'w.npy' declares 4294967280 bytes, more than its ") == 0);
  // A stored member cannot hold more than its stored bytes either.
  test::ZipMember stored = test::stored("w.npy", npy);
  stored.size = 1000000;
  test::write_bytes(path, test::zip({stored}));
  CHECK(arrays_error(path).find("'w.npy' declares 1000000 bytes, more than its 128 bytes in the file can hold") !=
        std::string::npos);
  // Within deflate's bounds, the zip's size and the header's shape must agree.
  test::ZipMember liar = test::stored(
      "w.npy", test::deflate_raw(test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000,), }",
                                           std::string(400000, '\0'))));
  liar.method = 8;
  liar.crc = test::crc_of(
      test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000,), }", std::string(400000, '\0')));
  liar.size = 200128;
  test::write_bytes(path, test::zip({liar}));
  CHECK(arrays_error(path).find("shape [100000] of float32 needs 400000 bytes of data, the array holds 200000") !=
        std::string::npos);

  // Overlapping members, a zip bomb's way to reuse one block: the second member's record lies
  // inside the first one's data.
  const std::string inner_npy =
      test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (250,), }", std::string(1000, '\0'));
  const std::string inner_zip = test::zip({test::stored("b.npy", inner_npy)});
  const std::string inner_record = inner_zip.substr(0, 30 + 5 + inner_npy.size());
  test::ZipMember outer = test::stored("a.npy", inner_record);
  test::ZipMember overlapping = test::stored("b.npy", inner_npy);
  overlapping.central_only = true;
  overlapping.local_offset = 30 + 5;
  test::write_bytes(path, test::zip({outer, overlapping}));
  const std::string overlap = arrays_error(path);
  CHECK(overlap.find(path + ": ") == 0);
  CHECK(overlap == path + ": its zip directory claims more bytes than the file's " +
                       std::to_string(test::read_bytes(path).size()) + " (members overlap or run past its end)");

  // A name twice.
  const std::string twelve(12, '\0');
  const std::string a = test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", twelve);
  test::write_bytes(path, test::zip({test::stored("a.npy", a), test::stored("a.npy", a)}));
  CHECK(arrays_error(path) == path + ": 'a.npy' is in the archive twice");

  // Deflated, with a corrupt stream; stored, with a wrong CRC.
  test::ZipMember corrupt = test::stored("a.npy", test::deflate_raw(a));
  corrupt.method = 8;
  corrupt.crc = test::crc_of(a);
  corrupt.size = static_cast<std::uint32_t>(a.size());
  corrupt.data[corrupt.data.size() / 2] ^= 0x5a;
  test::write_bytes(path, test::zip({corrupt}));
  CHECK(arrays_error(path).find(path + ": ") == 0);
  test::ZipMember bad_crc = test::stored("a.npy", a);
  bad_crc.crc = 12345;
  test::write_bytes(path, test::zip({bad_crc}));
  CHECK(arrays_error(path) == path + ": array 'a': corrupt data (CRC mismatch)");
  test::ZipMember other_method = test::stored("a.npy", a);
  other_method.method = 12;  // bzip2
  test::write_bytes(path, test::zip({other_method}));
  CHECK(arrays_error(path).find("unsupported zip compression method 12") != std::string::npos);
}

TEST_CASE("an endless stream is not read until memory runs out") {
  // /dev/zero never ends, and a zip's directory is at its end: the read stops at a bound.
  CHECK_THROWS_WITH_AS(nn::load_arrays("/dev/zero"), doctest::Contains("from a pipe or device"), nn::CheckpointError);
}

TEST_CASE("checkpoint arrays of every layout numpy writes load: big-endian, 0-d, empty, deflated") {
  test::TempDir dir;
  const std::string path = dir / "m.npz";
  const float one = 1.5f;
  std::string be(4, '\0');
  for (int i = 0; i < 4; ++i) be[static_cast<std::size_t>(i)] = reinterpret_cast<const char*>(&one)[3 - i];
  const double two = -2.25;
  const std::string scalar(reinterpret_cast<const char*>(&two), 8);
  const std::string full = test::npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", scalar + scalar);
  test::ZipMember deflated = test::stored("d.npy", test::deflate_raw(full));
  deflated.method = 8;
  deflated.crc = test::crc_of(full);
  deflated.size = static_cast<std::uint32_t>(full.size());
  test::write_bytes(
      path,
      test::zip(
          {test::stored("be.npy", test::npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", be)),
           test::stored("s.npy", test::npy("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": ()}", scalar)),
           test::stored("e.npy", test::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }")), deflated}));
  const auto arrays = nn::load_arrays(path);
  REQUIRE(arrays.size() == 4);
  CHECK(arrays[0].name == "be");
  CHECK(arrays[0].value == ag::Tensor<double>{1.5});
  CHECK(arrays[1].value.dimension() == 0);
  CHECK(arrays[1].value() == -2.25);
  CHECK(ag::to_shape(arrays[2].value.shape()) == ag::Shape{0, 3});
  CHECK(ag::to_shape(arrays[3].value.shape()) == ag::Shape{2, 1});
  CHECK(arrays[3].value(1, 0) == -2.25);
  // The same bytes in memory.
  CHECK(nn::parse_arrays(test::read_bytes(path), "memory").size() == 4);
  // An archive with no arrays, as np.savez() writes it, round-trips.
  nn::save_arrays<float>(dir / "empty.npz", {});
  CHECK(test::read_bytes(dir / "empty.npz").size() == 22);
  CHECK(nn::load_arrays(dir / "empty.npz").empty());
  CHECK_THROWS_WITH_AS(
      nn::save_arrays<float>(path, {{"x", ag::full<float>({1}, 0.0f)}, {"x", ag::full<float>({1}, 0.0f)}}),
      doctest::Contains("two arrays are named 'x'"), nn::CheckpointError);
}

#ifdef AUTOGRAD_TEST_DATA
TEST_CASE("checkpoints numpy wrote load bit for bit: np.savez and np.savez_compressed") {
  // tests/data/make_numpy_npz.py wrote them, with numpy 1.24.
  for (const std::string name : {"numpy_savez.npz", "numpy_savez_compressed.npz"}) {
    CAPTURE(name);
    const auto arrays = nn::load_arrays(std::string(AUTOGRAD_TEST_DATA) + "/" + name);
    REQUIRE(arrays.size() == 3);
    CHECK(arrays[0].name == "fc1.weight");
    CHECK(ag::to_shape(arrays[0].value.shape()) == ag::Shape{2, 3});
    for (std::size_t i = 0; i < 6; ++i) {
      CHECK(arrays[0].value.data()[i] == static_cast<double>(static_cast<float>(i) / 7.0f - 0.25f));
    }
    CHECK(arrays[1].name == "fc1.bias");
    CHECK(arrays[1].value == ag::Tensor<double>{0.1, -1e300});
    CHECK(arrays[2].name == "scalar");
    CHECK(arrays[2].value() == 3.0);
  }
}
#endif

TEST_CASE("a failed checkpoint save leaves the previous checkpoint intact and no temporary file") {
  test::TempDir dir;
  nn::manual_seed(5);
  Net first(64);
  const std::string path = dir / "net.npz";
  nn::save(first, path);
  const std::string saved = test::read_bytes(path);

  // The disk fills up half-way through the write (a file size limit stands in for it).
  nn::manual_seed(6);
  Net second(64);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  const rlimit small{512, old.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error = "(no error)";
  try {
    nn::save(second, path);
  } catch (const nn::CheckpointError& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  CHECK(error.find(path + ": cannot write " + path + ".tmp.") == 0);
  CHECK(error.find("File too large (the previous file, if any, is unchanged)") != std::string::npos);
  CHECK(test::read_bytes(path) == saved);
  CHECK(listing(dir) == std::set<std::string>{"net.npz"});

  // A folder that does not exist.
  CHECK_THROWS_WITH_AS(nn::save(second, dir / "missing/net.npz"), doctest::Contains("cannot create the temporary file"),
                       nn::CheckpointError);
  // A target that cannot be replaced: the temporary file goes.
  std::filesystem::create_directory(dir / "folder.npz");
  CHECK_THROWS_WITH_AS(nn::save(second, dir / "folder.npz"), doctest::Contains("cannot rename"), nn::CheckpointError);
  CHECK(listing(dir) == std::set<std::string>{"folder.npz", "net.npz"});

  // A checkpoint made private stays private when a save replaces it.
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  nn::save(second, path);
  CHECK(std::filesystem::status(path).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  Net check(64);
  nn::load(check, path);
  CHECK(check.fc1->weight().value() == second.fc1->weight().value());
}

TEST_CASE("a checkpoint save ignores stale temporary files, and removes those of dead processes of this machine") {
  test::TempDir dir;
  const std::string path = dir / "net.npz";
  Net net(4);
  nn::save(net, path);
  // A process that is gone: spawned and reaped.
  pid_t dead = 0;
  char true_path[] = "/bin/true";
  char* const argv[] = {true_path, nullptr};
  REQUIRE(::posix_spawn(&dead, true_path, nullptr, nullptr, argv, environ) == 0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const std::string stale = nn::detail::temporary_path(path, dead, 0x1234);
  const std::string alive = nn::detail::temporary_path(path, 1, 0x5678);  // init never dies
  const std::string other_host = dir / "net.npz.tmp.some-other-machine.12345.00000000deadbeef";
  for (const std::string& temp : {stale, alive, other_host}) test::write_bytes(temp, "half a checkpoint");
  CHECK(nn::load_arrays(path).size() == 4);
  nn::save(net, path);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(alive));
  CHECK(std::filesystem::exists(other_host));
  CHECK(nn::load_arrays(path).size() == 4);
}

TEST_CASE("threads saving different models to one checkpoint path never leave an empty or mixed file") {
  test::TempDir dir;
  const std::string path = dir / "net.npz";
  constexpr int kWriters = 4, kSaves = 40;
  std::vector<std::unique_ptr<Net>> nets;
  for (int w = 0; w < kWriters; ++w) {
    nets.push_back(std::make_unique<Net>(8));
    for (auto& p : nets.back()->parameters()) p.mutable_value().fill(static_cast<float>(w + 1));
  }
  nn::save(*nets[0], path);
  std::atomic<int> running{kWriters};
  std::mutex mutex;
  std::vector<std::string> failures;
  const auto record = [&](const std::string& what) {
    const std::lock_guard lock(mutex);
    failures.push_back(what);
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kSaves; ++i) {
        try {
          nn::save(*nets[static_cast<std::size_t>(w)], path);
        } catch (const std::exception& e) {
          record(std::string("save: ") + e.what());
        }
      }
      --running;
    });
  }
  int loads = 0;
  while (running > 0 || loads < 20) {
    try {
      const std::optional<double> v = uniform_value(path);
      if (!v || *v < 1 || *v > kWriters || *v != std::floor(*v)) record("a mixed checkpoint");
    } catch (const std::exception& e) {
      record(e.what());
    }
    ++loads;
  }
  for (auto& t : writers) t.join();
  CHECK(failures.empty());
  if (!failures.empty())
    MESSAGE(failures.size() << " failures in " << loads << " loads and " << kWriters * kSaves
                            << " saves, first: " << failures[0]);
  CHECK(listing(dir) == std::set<std::string>{"net.npz"});
}

#ifdef AUTOGRAD_WRITE_CHECKPOINT
TEST_CASE("processes killed while saving to one checkpoint path leave a loadable checkpoint") {
  test::TempDir dir;
  const std::string path = dir / "net.npz";
  // Writers that save a model of one value over and over; killed at the end of the scope
  // whatever happens to the test.
  struct Writers {
    std::vector<pid_t> pids;
    ~Writers() { stop(); }
    void stop() {
      for (pid_t pid : pids) ::kill(pid, SIGKILL);
      for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
      pids.clear();
    }
  } writers;
  const auto spawn = [&](int value) {
    std::string program = AUTOGRAD_WRITE_CHECKPOINT, file = path, forever = "--forever", v = std::to_string(value);
    char* const argv[] = {program.data(), file.data(), forever.data(), v.data(), nullptr};
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) == 0);
    writers.pids.push_back(pid);
  };
  const auto load = [&] {
    std::optional<double> v;
    try {
      v = uniform_value(path);
    } catch (const std::exception& e) {
      FAIL(e.what());
    }
    if (!v) FAIL("a mixed checkpoint");
    return *v;
  };
  spawn(1);
  for (int i = 0; i < 5000 && !std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  writers.stop();
  double current = load();
  REQUIRE(current == 1);

  std::mt19937 rng(7);
  int temporaries_left = 0;
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    spawn(2 * round + 2);
    spawn(2 * round + 3);
    // Load while they save: until one of them has replaced the checkpoint, then for a random
    // while longer; then kill both wherever they are.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (load() == current && std::chrono::steady_clock::now() < give_up) {
    }
    REQUIRE_MESSAGE(load() != current, "no save completed in 10 s");
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(std::uniform_int_distribution<int>(0, 10000)(rng));
    while (std::chrono::steady_clock::now() < deadline) load();
    writers.stop();
    current = load();
    CHECK((current == 2 * round + 2 || current == 2 * round + 3));
    temporaries_left += static_cast<int>(listing(dir).size()) - 1;
  }
  // Some saves were caught half-way; a later save cleans up after them.
  MESSAGE(temporaries_left << " temporary files left by killed saves in 10 rounds");
  Net net(4);
  nn::save(net, path);
  CHECK(listing(dir) == std::set<std::string>{"net.npz"});
}
#endif
