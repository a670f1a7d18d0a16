// libFuzzer harness of the IDX reader: any bytes, plain or gzip, give an array whose data matches
// its shape or a DataError; anything else (another exception, a crash, a sanitizer report, an
// allocation beyond -malloc_limit_mb) is a finding.
#include <cstddef>
#include <cstdint>
#include <nn/io/idx.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ag::nn::IdxArray array =
        ag::nn::parse_idx(std::string_view(reinterpret_cast<const char*>(data), size), "input");
    std::size_t count = 1;
    for (const std::size_t d : array.shape) count *= d;
    if (array.shape.empty() || count != array.data.size()) __builtin_trap();
  } catch (const ag::nn::DataError&) {
  }
  return 0;
}
