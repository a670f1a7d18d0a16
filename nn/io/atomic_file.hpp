// Replacing a file atomically, safely against concurrent writers and crashes (internal to the
// checkpoint and IDX writers).
//
// The bytes go to a temporary file in the same folder, created with O_EXCL under a name no other
// writer uses (`PATH.tmp.HOST.PID.RANDOM`), then are fsynced, renamed over PATH, and the folder
// fsynced. A reader of PATH sees the old file or the new one, whole, never a mix or an empty
// file, whatever other threads or processes save to PATH at the same time; the last rename wins.
// A failed save removes its temporary file and leaves PATH as it was. A save killed half-way
// leaves its temporary file behind: it is never read, and the next save to PATH on the same
// machine removes it once its process is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace ag::nn::detail {

// The message names PATH, the step that failed and the system's reason.
class AtomicWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `fill` writes the new content through the function it is given, in as many pieces as it likes.
using Sink = std::function<void(const void* data, std::size_t size)>;
void write_atomically(const std::string& path, const std::function<void(const Sink&)>& fill);

// The temporary file a save to `path` by process `pid` would use: the tests make stale ones.
std::string temporary_path(const std::string& path, long pid, std::uint64_t random);

}  // namespace ag::nn::detail
