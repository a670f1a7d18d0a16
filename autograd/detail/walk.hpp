// The one walk of a recorded graph, shared by the backward replay (backward.cpp) and by the
// pictures of the graph (graph.cpp). Internal: not installed.
//
// Walk::gather(root, follow) finds every variable that `root` was computed from, each node once,
// going through the inputs for which follow(input) holds (backward: those that require grad;
// the pictures: all). It numbers them (root 0), lists each node's inputs by number, and orders
// them newest first: recorded ops by falling tape position, then the leaves. Since an op always
// has a later position than its inputs, every node then comes after all of its consumers.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "autograd/variable.hpp"

namespace ag::detail {

// Node -> its number in this walk: open addressing with linear probing, at most half full. Cells
// carry the number of the walk that filled them, so a table is emptied for the next walk by
// counting one up, not by clearing it.
class SlotTable {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  void start() {
    count_ = 0;
    if (++walk_ == 0 || cells_.size() > kKeptCells) {  // a wrapped counter, or a giant graph's table: start afresh
      cells_.assign(kInitialCells, Cell{});
      walk_ = 1;
    }
  }

  // The number of `key`, or `fresh` (stored) when the key is new.
  std::pair<std::uint32_t, bool> insert(const void* key, std::uint32_t fresh) {
    if (2 * (count_ + 1) > cells_.size()) grow();
    std::size_t i = home(key);
    while (cells_[i].walk == walk_) {
      if (cells_[i].key == key) return {cells_[i].slot, false};
      i = (i + 1) & (cells_.size() - 1);
    }
    cells_[i] = {key, fresh, walk_};
    ++count_;
    return {fresh, true};
  }

 private:
  static constexpr std::size_t kInitialCells = 64, kKeptCells = std::size_t{1} << 16;

  struct Cell {
    const void* key = nullptr;
    std::uint32_t slot = kNone;
    std::uint32_t walk = 0;
  };

  std::size_t home(const void* key) const {
    // Fibonacci hashing of the address; nodes are 64-byte aligned, so the low bits say nothing.
    const auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> (64 - std::countr_zero(cells_.size())));
  }

  void grow() {
    std::vector<Cell> old = std::move(cells_);
    cells_.assign(std::max<std::size_t>(kInitialCells, 2 * old.size()), Cell{});
    count_ = 0;
    for (const Cell& c : old) {
      if (c.walk == walk_) insert(c.key, c.slot);
    }
  }

  std::vector<Cell> cells_ = std::vector<Cell>(kInitialCells);
  std::size_t count_ = 0;
  std::uint32_t walk_ = 0;
};

// A walk's results. Its storage can be kept for the next walk (a training loop runs one backward
// per step): gather() starts afresh and reuses it.
template <class T>
class Walk {
 public:
  static constexpr std::uint32_t kNone = SlotTable::kNone;

  template <class Follow>
  void gather(const Variable<T>& root, Follow follow) {
    clear();
    table_.start();
    table_.insert(Access::node(root), 0);
    found_.push_back(&root);
    for (std::uint32_t next = 0; next < found_.size(); ++next) {
      first_input_.push_back(static_cast<std::uint32_t>(inputs_.size()));
      for (const Variable<T>& input : Access::node(*found_[next])->inputs) {
        if (!follow(input)) {
          inputs_.push_back(kNone);
          continue;
        }
        const auto [number, fresh] = table_.insert(Access::node(input), static_cast<std::uint32_t>(found_.size()));
        if (fresh) found_.push_back(&input);
        inputs_.push_back(number);
      }
    }
    // Ops sorted as (position, number) pairs side by side, so comparisons chase no pointers; leaves
    // (position 0) go last in the order found. A chain, whose breadth-first order already runs down
    // the tape, needs no sort at all.
    for (std::uint32_t i = 0; i < found_.size(); ++i) {
      const std::uint64_t position = node(i).tape_position;
      if (position != 0) by_position_.emplace_back(position, i);
    }
    if (!std::is_sorted(by_position_.begin(), by_position_.end(), std::greater<>())) {
      std::sort(by_position_.begin(), by_position_.end(), std::greater<>());
    }
    for (const auto& [position, i] : by_position_) newest_first_.push_back(i);
    for (std::uint32_t i = 0; i < found_.size(); ++i) {
      if (node(i).tape_position == 0) newest_first_.push_back(i);
    }
  }

  std::size_t size() const { return found_.size(); }
  // The variable through which node i was reached: the root, or an input of a consumer. It stays
  // put as long as the root holds the graph.
  const Variable<T>& variable(std::uint32_t i) const { return *found_[i]; }
  Node<T>& node(std::uint32_t i) const { return *Access::node(*found_[i]); }
  // The number of input k of node i, or kNone when the walk did not follow it.
  std::uint32_t input(std::uint32_t i, std::size_t k) const { return inputs_[first_input_[i] + k]; }
  // Every node, each after all its consumers: ops newest first, then leaves.
  const std::vector<std::uint32_t>& newest_first() const { return newest_first_; }

  void clear() {
    found_.clear();
    first_input_.clear();
    inputs_.clear();
    newest_first_.clear();
    by_position_.clear();
  }

 private:
  SlotTable table_;
  std::vector<const Variable<T>*> found_;
  std::vector<std::uint32_t> first_input_, inputs_, newest_first_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_position_;  // scratch of the sort
};

}  // namespace ag::detail
