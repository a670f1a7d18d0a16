#include "nn/io/checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace ag::nn {

template <class T>
void save(const Module<T>& module, const std::string& path) {
  std::vector<std::pair<std::string, Tensor<T>>> arrays;
  for (const auto& [name, p] : module.named_parameters()) arrays.emplace_back(name, p.value());
  save_arrays(path, arrays);
}

template <class T>
void load(Module<T>& module, const std::string& path) {
  std::map<std::string, Tensor<double>> stored;
  for (NamedArray& a : load_arrays(path)) stored.emplace(a.name, std::move(a.value));
  auto params = module.named_parameters();
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, p] : params) {
    const auto it = stored.find(name);
    if (it == stored.end()) {
      missing.push_back(name);
    } else if (to_shape(it->second.shape()) != p.shape()) {
      mismatched.push_back(fmt::format("'{}' is {} in the file but {} in the model", name,
                                       shape_str(to_shape(it->second.shape())), shape_str(p.shape())));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& entry : stored) {
    if (std::none_of(params.begin(), params.end(), [&](const auto& np) { return np.first == entry.first; })) {
      unexpected.push_back(entry.first);
    }
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string what;
    if (!missing.empty()) what += fmt::format("; missing from the file: {}", fmt::join(missing, ", "));
    if (!unexpected.empty()) what += fmt::format("; in the file but not in the model: {}", fmt::join(unexpected, ", "));
    if (!mismatched.empty()) what += fmt::format("; {}", fmt::join(mismatched, "; "));
    throw CheckpointError(fmt::format("{} does not match the model{} (nothing was loaded)", path, what));
  }
  NoGrad no_grad;
  for (auto& [name, p] : params) p.mutable_value() = xt::cast<T>(stored.at(name));
}

template void save(const Module<float>&, const std::string&);
template void save(const Module<double>&, const std::string&);
template void load(Module<float>&, const std::string&);
template void load(Module<double>&, const std::string&);

}  // namespace ag::nn
