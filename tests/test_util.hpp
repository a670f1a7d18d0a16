// Helpers shared by the tests: seeded random tensors and a one-line gradient check.
#pragma once

#include <doctest/doctest.h>

#include <autograd/autograd.hpp>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace test {

inline std::mt19937& rng() {
  static std::mt19937 generator(12345);
  return generator;
}

// Uniform in [lo, hi].
inline ag::Tensor<double> uniform(const ag::Shape& shape, double lo = -2.0, double hi = 2.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  ag::Tensor<double> t = ag::Tensor<double>::from_shape(shape);
  for (double& v : t) v = dist(rng());
  return t;
}

// Uniform in [-hi, -margin] U [margin, hi]: away from the kinks of relu, abs and step at 0.
inline ag::Tensor<double> away_from_zero(const ag::Shape& shape, double margin = 0.2, double hi = 2.0) {
  ag::Tensor<double> t = uniform(shape, margin, hi);
  std::bernoulli_distribution sign(0.5);
  for (double& v : t) v = sign(rng()) ? v : -v;
  return t;
}

using Vars = std::vector<ag::Variable<double>>;

// A leaf that requires grad.
inline ag::Variable<double> leaf(ag::Tensor<double> t) {
  return ag::Variable<double>(std::move(t), true);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The message of the exception of type `Error` that `f` throws, or "(no exception)"; an exception
// of another type goes through and fails the test.
template <class Error = std::exception, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace test

// First- and second-order gradient checks of `f` at `inputs`, failing with the report.
#define CHECK_GRADIENTS(f, ...)                                     \
  do {                                                              \
    const auto first = ag::gradcheck(f, {__VA_ARGS__});             \
    CHECK_MESSAGE(first.ok, first.summary());                       \
    const auto second = ag::gradgradcheck(f, {__VA_ARGS__});        \
    CHECK_MESSAGE(second.ok, "second order: " << second.summary()); \
  } while (0)

#define CHECK_FIRST_ORDER(f, ...)                       \
  do {                                                  \
    const auto first = ag::gradcheck(f, {__VA_ARGS__}); \
    CHECK_MESSAGE(first.ok, first.summary());           \
  } while (0)

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

namespace test {

// A fresh directory under the system's temporary directory, removed at the end of the scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "autograd-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Checks that every non-blank line of the README's first ```cpp block after `marker` is a line of
// `test_file` (leading spaces ignored), and that the block has more than `min_lines` of them: the
// README then shows only code that this test compiles and runs.
inline void check_readme_snippet(const std::filesystem::path& test_file, const std::string& marker, int min_lines) {
  const auto trimmed = [](const std::string& line) {
    const auto first = line.find_first_not_of(' ');
    return first == std::string::npos ? std::string() : line.substr(first);
  };
  const std::string test_text = read_bytes(test_file.string());
  REQUIRE(!test_text.empty());
  std::set<std::string> ours;
  std::istringstream test_lines(test_text);
  for (std::string line; std::getline(test_lines, line);) ours.insert(trimmed(line));

  const std::string readme = read_bytes((test_file.parent_path().parent_path() / "README.md").string());
  const auto at = readme.find(marker);
  REQUIRE(at != std::string::npos);
  const auto start = readme.find("```cpp\n", at);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("```\n", start + 7);
  REQUIRE(end != std::string::npos);
  std::istringstream snippet(readme.substr(start + 7, end - start - 7));
  int lines = 0;
  for (std::string line; std::getline(snippet, line);) {
    if (trimmed(line).empty()) continue;
    ++lines;
    CHECK_MESSAGE(ours.count(trimmed(line)) == 1, "README line not in " << test_file.filename() << ": " << line);
  }
  CHECK(lines > min_lines);
}

}  // namespace test
