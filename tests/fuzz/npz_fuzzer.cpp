// libFuzzer harness of the .npz reader (zip container and .npy headers): any bytes give arrays or
// a CheckpointError; anything else (another exception, a crash, a sanitizer report, an
// allocation beyond -malloc_limit_mb) is a finding.
#include <cstddef>
#include <cstdint>
#include <nn/io/checkpoint.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    for (const ag::nn::NamedArray& a :
         ag::nn::parse_arrays(std::string_view(reinterpret_cast<const char*>(data), size), "input")) {
      if (a.name.empty()) __builtin_trap();
    }
  } catch (const ag::nn::CheckpointError&) {
  }
  return 0;
}
