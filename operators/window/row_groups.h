// RowGroups: groups the rows of one batch by an encoded group key, so an
// operator touches each group's state once per batch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::window {

/// Collects (group key, row) entries of one batch, then lists each group's rows
/// in the order they were added. A row may belong to several groups. Group
/// keys are copied once per group, never per row. Reuse with clear().
/// Not thread-safe.
class RowGroups {
 public:
  void clear() {
    index_.clear();
    keys_.clear();
    firstRows_.clear();
    entryGroups_.clear();
    entryRows_.clear();
  }

  /// Adds `row` to the group `groupKey`.
  void add(std::string_view groupKey, int32_t row) {
    auto it = index_.find(groupKey);
    int32_t group;
    if (it == index_.end()) {
      group = static_cast<int32_t>(keys_.size());
      it = index_.emplace(std::string(groupKey), group).first;
      keys_.push_back(it->first);
      firstRows_.push_back(row);
    } else {
      group = it->second;
    }
    entryGroups_.push_back(group);
    entryRows_.push_back(row);
  }

  /// Orders the entries by group (stable). REQUIRES: after the last add.
  void finish() {
    offsets_.assign(keys_.size() + 1, 0);
    for (int32_t group : entryGroups_) ++offsets_[group + 1];
    for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
    rows_.resize(entryRows_.size());
    std::vector<int32_t> next(offsets_.begin(), offsets_.end() - 1);
    for (size_t i = 0; i < entryRows_.size(); ++i) rows_[next[entryGroups_[i]]++] = entryRows_[i];
  }

  size_t size() const { return keys_.size(); }
  std::string_view key(size_t group) const { return keys_[group]; }
  int32_t firstRow(size_t group) const { return firstRows_[group]; }
  /// REQUIRES: finish() was called.
  std::span<const int32_t> rows(size_t group) const {
    return std::span<const int32_t>(rows_.data() + offsets_[group], offsets_[group + 1] - offsets_[group]);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> index_;
  std::vector<std::string_view> keys_;  // views of index_'s keys (node-based, so stable)
  std::vector<int32_t> firstRows_;
  std::vector<int32_t> entryGroups_;
  std::vector<int32_t> entryRows_;
  std::vector<int32_t> offsets_;
  std::vector<int32_t> rows_;
};

}  // namespace sluice::window
