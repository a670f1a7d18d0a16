#include "nn/distributed/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "nn/io/checkpoint.hpp"

namespace ag::nn::distributed {

namespace {

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}

// MPI counts are ints.
int mpi_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw MpiError(fmt::format("{}: {} numbers are more than one MPI call takes ({})", what, n, INT_MAX));
  }
  return static_cast<int>(n);
}

// FNV-1a over the tensors' ranks and dimensions.
std::uint64_t shapes_digest(const std::vector<Shape>& shapes) {
  std::uint64_t h = 14695981039346656037ULL;
  const auto mix = [&h](std::uint64_t v) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= (v >> (8 * byte)) & 0xffU;
      h *= 1099511628211ULL;
    }
  };
  for (const Shape& shape : shapes) {
    mix(shape.size());
    for (const std::size_t d : shape) mix(d);
  }
  return h;
}

template <class T>
std::uint64_t shapes_digest(const std::vector<Variable<T>>& parameters) {
  std::vector<Shape> shapes;
  shapes.reserve(parameters.size());
  for (const Variable<T>& p : parameters) shapes.push_back(p.shape());
  return shapes_digest(shapes);
}

void require_root(const Communicator& comm, int root, const char* what) {
  if (root < 0 || root >= comm.size()) {
    throw std::invalid_argument(fmt::format("{}: root {} of {} ranks", what, root, comm.size()));
  }
}

}  // namespace

template <class T>
void check_same_parameters(const Communicator& comm, const std::vector<Variable<T>>& parameters, const char* what) {
  std::size_t elements = 0;
  for (const Variable<T>& p : parameters) elements += p.size();
  const std::uint64_t mine[] = {parameters.size(), elements, shapes_digest(parameters)};
  const std::vector<Communicator::Range> agreed = comm.range(mine);
  if (agreed[0].min != agreed[0].max || agreed[1].min != agreed[1].max) {
    throw std::invalid_argument(fmt::format(
        "{}: the ranks disagree on the model: from {} to {} parameter tensors, from {} to {} numbers (rank {} has "
        "{} and {}); every rank must build the same model",
        what, agreed[0].min, agreed[0].max, agreed[1].min, agreed[1].max, comm.rank(), parameters.size(), elements));
  }
  if (agreed[2].min != agreed[2].max) {
    throw std::invalid_argument(fmt::format(
        "{}: the ranks disagree on the model: {} parameter tensors of {} numbers on every rank, but not of the same "
        "shapes; every rank must build the same model",
        what, parameters.size(), elements));
  }
}

template <class T>
void broadcast_parameters(const Communicator& comm, const std::vector<Variable<T>>& parameters, int root) {
  require_root(comm, root, "broadcast_parameters");
  check_same_parameters(comm, parameters, "broadcast_parameters");
  for (Variable<T> p : parameters) {
    Tensor<T>& value = p.mutable_value();
    check_mpi(
        MPI_Bcast(value.data(), mpi_count(value.size(), "broadcast_parameters"), mpi_type<T>(), root, comm.handle()),
        "MPI_Bcast");
  }
}

template <class T>
void broadcast_optimizer_state(const Communicator& comm, Optimizer<T>& optimizer, int root) {
  require_root(comm, root, "broadcast_optimizer_state");
  const std::vector<Tensor<T>*> state = optimizer.state_tensors();
  std::vector<Shape> shapes;
  std::size_t elements = 0;
  for (const Tensor<T>* t : state) {
    shapes.push_back(to_shape(t->shape()));
    elements += t->size();
  }
  const std::uint64_t mine[] = {state.size(), elements, shapes_digest(shapes)};
  const std::vector<Communicator::Range> agreed = comm.range(mine);
  if (agreed[0].min != agreed[0].max || agreed[1].min != agreed[1].max || agreed[2].min != agreed[2].max) {
    throw std::invalid_argument(fmt::format(
        "broadcast_optimizer_state: the ranks disagree on the optimizer's state: from {} to {} state tensors, from "
        "{} to {} numbers (rank {} has {} and {}){}; every rank must build the same optimizer over the same model",
        agreed[0].min, agreed[0].max, agreed[1].min, agreed[1].max, comm.rank(), state.size(), elements,
        agreed[0].min == agreed[0].max && agreed[1].min == agreed[1].max ? ", not of the same shapes" : ""));
  }
  // Every tensor in one buffer, one MPI_Bcast; the root's numbers are copied in, the others' out.
  if (elements > 0) {
    std::vector<T> buffer(elements);
    if (comm.rank() == root) {
      auto out = buffer.begin();
      for (const Tensor<T>* t : state) out = std::copy(t->begin(), t->end(), out);
    }
    check_mpi(
        MPI_Bcast(buffer.data(), mpi_count(elements, "broadcast_optimizer_state"), mpi_type<T>(), root, comm.handle()),
        "MPI_Bcast");
    if (comm.rank() != root) {
      auto in = buffer.cbegin();
      for (Tensor<T>* t : state) {
        std::copy(in, in + static_cast<long>(t->size()), t->begin());
        in += static_cast<long>(t->size());
      }
    }
  }
  // The step count: an integer that T may not hold exactly (float: 2^24).
  std::int64_t steps = optimizer.step_count();
  check_mpi(MPI_Bcast(&steps, 1, MPI_INT64_T, root, comm.handle()), "MPI_Bcast");
  if (comm.rank() != root) optimizer.set_step_count(static_cast<long>(steps));
}

template <class T>
GradientAverager<T>::GradientAverager(const Communicator& comm, std::vector<Variable<T>> parameters)
    : comm_(comm), parameters_(std::move(parameters)) {
  check_same_parameters(comm_, parameters_, "GradientAverager");
  for (const Variable<T>& p : parameters_) {
    shapes_.push_back(p.shape());
    elements_ += p.size();
  }
  buffer_.reserve(elements_ + parameters_.size() + 1);
}

template <class T>
std::size_t GradientAverager<T>::bytes_per_step(std::size_t totals) const {
  return (elements_ + parameters_.size() + 1 + totals) * sizeof(T);
}

template <class T>
void GradientAverager<T>::average(std::size_t rows, std::span<T> totals) {
  // The row count travels as a T: exact up to 2^digits (2^24 rows for float).
  constexpr std::size_t max_rows = std::size_t{1} << std::numeric_limits<T>::digits;
  if (rows > max_rows) {
    throw std::invalid_argument(fmt::format("GradientAverager: {} rows on one rank; at most {}", rows, max_rows));
  }
  const std::size_t count = parameters_.size();
  // Layout: every gradient times this rank's rows, one "has a gradient" flag per parameter, the
  // rows, the totals. A rank without rows contributes zeros and flags of 0.
  buffer_.assign(elements_ + count + 1 + totals.size(), T(0));
  T* const flags = buffer_.data() + elements_;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Variable<T>& p = parameters_[i];
    if (p.shape() != shapes_[i]) {
      throw ShapeError(
          fmt::format("GradientAverager: parameter {} has shape {}, but it had {} when the averager was "
                      "built",
                      i, shape_str(p.shape()), shape_str(shapes_[i])));
    }
    const Variable<T>& grad = p.grad();
    if (rows > 0 && grad.defined()) {
      if (grad.shape() != shapes_[i]) {
        throw ShapeError(fmt::format("GradientAverager: parameter {} of shape {} has a gradient of shape {}", i,
                                     shape_str(shapes_[i]), shape_str(grad.shape())));
      }
      const T weight = static_cast<T>(rows);
      std::transform(grad.value().begin(), grad.value().end(), buffer_.begin() + static_cast<long>(offset),
                     [weight](T g) { return weight * g; });
      flags[i] = T(1);
    }
    offset += p.size();
  }
  flags[count] = static_cast<T>(rows);
  std::copy(totals.begin(), totals.end(), flags + count + 1);

  check_mpi(MPI_Allreduce(MPI_IN_PLACE, buffer_.data(), mpi_count(buffer_.size(), "GradientAverager"), mpi_type<T>(),
                          MPI_SUM, comm_.handle()),
            "MPI_Allreduce");

  const T all_rows = flags[count];
  // Every rank sees the same sum, so every rank throws here, or none does.
  if (all_rows == T(0)) throw std::invalid_argument("GradientAverager: no rank had any rows in this batch");
  std::copy(flags + count + 1, flags + count + 1 + totals.size(), totals.begin());
  offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    Variable<T>& p = parameters_[i];
    const std::size_t n = p.size();
    const auto averaged = buffer_.begin() + static_cast<long>(offset);
    offset += n;
    if (flags[i] == T(0)) {
      p.zero_grad();  // no rank had a gradient: as one process, none
      continue;
    }
    std::transform(averaged, averaged + static_cast<long>(n), averaged, [all_rows](T s) { return s / all_rows; });
    // In place, into the gradient this rank's backward left (as PyTorch's DistributedDataParallel
    // does: a handle to it taken before sees the average too). A rank without one (no rows, or a
    // parameter its share did not reach) gets one from the engine: the gradient of
    // sum(p * averaged) is `averaged`, exactly.
    const Variable<T>& grad = p.grad();
    if (grad.defined() && rows > 0) {
      Variable<T> writable = grad;
      std::copy(averaged, averaged + static_cast<long>(n), writable.mutable_value().begin());
    } else {
      Tensor<T> values = uninitialized<T>(shapes_[i]);
      std::copy(averaged, averaged + static_cast<long>(n), values.begin());
      const GradModeGuard recording(true);
      p.zero_grad();
      ag::backward(ag::sum(p * Variable<T>(std::move(values))));
    }
  }
}

template <class T>
void save_on_root(const Communicator& comm, const Module<T>& module, const std::string& path) {
  // Rank 0's outcome, broadcast: its length (0 for success), then the reason.
  std::string reason;
  std::exception_ptr failure;
  if (comm.is_root()) {
    try {
      save(module, path);
    } catch (const std::exception& e) {
      failure = std::current_exception();
      reason = e.what();
      if (reason.empty()) reason = "unknown error";
    }
  }
  int length = static_cast<int>(std::min<std::size_t>(reason.size(), 4096));
  check_mpi(MPI_Bcast(&length, 1, MPI_INT, 0, comm.handle()), "MPI_Bcast");
  if (length == 0) return;
  reason.resize(static_cast<std::size_t>(length));
  check_mpi(MPI_Bcast(reason.data(), length, MPI_CHAR, 0, comm.handle()), "MPI_Bcast");
  if (failure) std::rethrow_exception(failure);
  throw CheckpointError(fmt::format("save_on_root: rank 0 could not save the checkpoint: {}", reason));
}

#define AG_DISTRIBUTED(T)                                                                                 \
  template void check_same_parameters(const Communicator&, const std::vector<Variable<T>>&, const char*); \
  template void broadcast_parameters(const Communicator&, const std::vector<Variable<T>>&, int);          \
  template void broadcast_optimizer_state(const Communicator&, Optimizer<T>&, int);                       \
  template class GradientAverager<T>;                                                                     \
  template void save_on_root(const Communicator&, const Module<T>&, const std::string&);
AG_DISTRIBUTED(float)
AG_DISTRIBUTED(double)

}  // namespace ag::nn::distributed
