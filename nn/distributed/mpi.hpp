// MPI underneath data-parallel training: the process's MPI environment, a communicator, and the
// guard that turns a failure on one rank into the end of the whole job.
//
// Every call here is made from the thread that created the Environment (MPI_THREAD_FUNNELED):
// the engine's own threads compute, they never communicate.
//
// Errors: MPI reports its errors to us (MPI_ERRORS_RETURN) and we throw MpiError saying which call
// failed and why. An exception on one rank leaves the others waiting in their next collective, so
// a program runs its work in `run_or_abort`, which prints "program: rank R of P: reason" on stderr
// and calls MPI_Abort: the whole job ends, non-zero, within the launcher's reaction time.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace ag::nn::distributed {

class MpiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws MpiError "call: MPI's message" unless `code` is MPI_SUCCESS.
void check_mpi(int code, const char* call);

// A communicator's handle, not its owner (MPI_COMM_WORLD by default): rank, size and the few
// collectives that training needs beyond the gradients' (data_parallel.hpp).
class Communicator {
 public:
  explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD);
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm handle() const { return comm_; }

  // Element-wise sums, in place, on every rank: figures such as a test set's loss, added over
  // the ranks' shares. Double, so that counts and sums stay exact to 2^53.
  void sum(std::span<double> values) const;
  // Each value's minimum and maximum over the ranks, in one call: ranks agree on a value when
  // its minimum equals its maximum.
  struct Range {
    std::uint64_t min, max;
  };
  std::vector<Range> range(std::span<const std::uint64_t> values) const;
  void barrier() const;

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

// MPI_Init_thread on construction, MPI_Finalize on destruction: one per process, in main, before
// anything else of MPI. Throws MpiError when MPI is already initialised or cannot start.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  Communicator world() const { return Communicator(MPI_COMM_WORLD); }
};

// Prints "program: rank R of P: reason" on one line on stderr and ends every rank of `comm` with
// MPI_Abort(comm, 1). For a catch block: the reason is the exception being handled.
[[noreturn]] void abort_job(const Communicator& comm, const char* program) noexcept;

// Runs `work()` and returns what it returns; an exception, on any rank, ends the whole job
// (abort_job) instead of leaving the other ranks waiting for this one forever.
template <class Work>
auto run_or_abort(const Communicator& comm, const char* program, Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (...) {
    abort_job(comm, program);
  }
}

}  // namespace ag::nn::distributed
