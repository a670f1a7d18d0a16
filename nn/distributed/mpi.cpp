#include "nn/distributed/mpi.hpp"

#include <fmt/format.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace ag::nn::distributed {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, message, &length) != MPI_SUCCESS) std::snprintf(message, sizeof message, "error %d", code);
  throw MpiError(fmt::format("{}: {}", call, message));
}

Communicator::Communicator(MPI_Comm comm) : comm_(comm) {
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void Communicator::sum(std::span<double> values) const {
  if (values.size() > static_cast<std::size_t>(INT_MAX)) {
    throw MpiError(fmt::format("Communicator::sum: {} values are more than one MPI call takes", values.size()));
  }
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, comm_),
            "MPI_Allreduce");
}

std::vector<Communicator::Range> Communicator::range(std::span<const std::uint64_t> values) const {
  // One MPI_MAX over each value and its complement: the maximum of ~x is ~(the minimum of x).
  std::vector<std::uint64_t> both;
  both.reserve(2 * values.size());
  for (const std::uint64_t v : values) {
    both.push_back(v);
    both.push_back(~v);
  }
  if (both.size() > static_cast<std::size_t>(INT_MAX)) {
    throw MpiError(fmt::format("Communicator::range: {} values are more than one MPI call takes", values.size()));
  }
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, both.data(), static_cast<int>(both.size()), MPI_UINT64_T, MPI_MAX, comm_),
            "MPI_Allreduce");
  std::vector<Range> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out.push_back({~both[2 * i + 1], both[2 * i]});
  return out;
}

void Communicator::barrier() const {
  check_mpi(MPI_Barrier(comm_), "MPI_Barrier");
}

Environment::Environment(int& argc, char**& argv) {
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) throw MpiError("distributed::Environment: MPI is already initialised in this process");
  int provided = 0;
  check_mpi(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes, which check_mpi turns into exceptions naming the call.
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw MpiError("distributed::Environment: this MPI does not allow a threaded process (MPI_THREAD_FUNNELED)");
  }
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void abort_job(const Communicator& comm, const char* program) noexcept {
  const char* reason = "unknown exception";
  if (const std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& e) {
      reason = e.what();
    } catch (...) {
    }
  }
  // One line, written at once, so that the ranks' messages do not interleave mid-line.
  std::fflush(stdout);
  std::string line;
  try {
    line = fmt::format("{}: rank {} of {}: ", program, comm.rank(), comm.size());
    for (const char* c = reason; *c != '\0'; ++c) {
      if (*c == '\n')
        line += "; ";
      else if (*c != '\r')
        line += *c;
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    line += '\n';
    std::fputs(line.c_str(), stderr);
  } catch (...) {  // no memory for the line: its parts, as they are
    std::fprintf(stderr, "%s: rank %d of %d: %s\n", program, comm.rank(), comm.size(), reason);
  }
  std::fflush(stderr);
  MPI_Abort(comm.handle(), 1);
  std::_Exit(1);  // MPI_Abort does not return; should it, this rank still ends
}

}  // namespace ag::nn::distributed
