// RowGroups: groups the rows of one batch by an encoded group key, so an
// operator touches each group's state once per batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::window {

/// Collects (group key, row) entries of one batch, then lists each group's rows
/// in the order they were added. A row may belong to several groups. Group
/// keys are copied once per group into one buffer, and the index is an
/// open-addressing table, so a batch allocates nothing once the buffers have
/// grown. Reuse with clear(). Not thread-safe.
class RowGroups {
 public:
  void clear() {
    keyBytes_.clear();
    keyOffsets_.assign(1, 0);
    keyHashes_.clear();
    firstRows_.clear();
    entryGroups_.clear();
    entryRows_.clear();
    std::fill(slots_.begin(), slots_.end(), kEmpty);
  }

  /// Adds `row` to the group `groupKey`.
  void add(std::string_view groupKey, int32_t row) {
    if ((keyHashes_.size() + 1) * 2 > slots_.size()) grow();
    const uint64_t hash = std::hash<std::string_view>()(groupKey);
    const size_t mask = slots_.size() - 1;
    size_t slot = static_cast<size_t>(hash) & mask;
    int32_t group;
    while (true) {
      group = slots_[slot];
      if (group == kEmpty) {
        group = static_cast<int32_t>(keyHashes_.size());
        slots_[slot] = group;
        keyBytes_.append(groupKey);
        keyOffsets_.push_back(keyBytes_.size());
        keyHashes_.push_back(hash);
        firstRows_.push_back(row);
        break;
      }
      if (keyHashes_[group] == hash && storedKey(group) == groupKey) break;
      slot = (slot + 1) & mask;
    }
    entryGroups_.push_back(group);
    entryRows_.push_back(row);
  }

  /// Orders the entries by group (stable). REQUIRES: after the last add.
  void finish() {
    offsets_.assign(keyHashes_.size() + 1, 0);
    for (int32_t group : entryGroups_) ++offsets_[group + 1];
    for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
    rows_.resize(entryRows_.size());
    next_.assign(offsets_.begin(), offsets_.end() - 1);
    for (size_t i = 0; i < entryRows_.size(); ++i) rows_[next_[entryGroups_[i]]++] = entryRows_[i];
  }

  size_t size() const { return keyHashes_.size(); }
  /// Valid until the next add or clear.
  std::string_view key(size_t group) const { return storedKey(group); }
  /// The hash of group `group`'s key: `std::hash<std::string_view>`, as StableKeyMap::hashOf.
  uint64_t hash(size_t group) const { return keyHashes_[group]; }
  int32_t firstRow(size_t group) const { return firstRows_[group]; }
  /// REQUIRES: finish() was called.
  std::span<const int32_t> rows(size_t group) const {
    return std::span<const int32_t>(rows_.data() + offsets_[group], offsets_[group + 1] - offsets_[group]);
  }

 private:
  static constexpr int32_t kEmpty = -1;

  std::string_view storedKey(size_t group) const {
    return std::string_view(keyBytes_).substr(keyOffsets_[group], keyOffsets_[group + 1] - keyOffsets_[group]);
  }
  /// Doubles the table (at least 64 slots) and re-inserts the groups.
  void grow() {
    slots_.assign(std::max<size_t>(64, slots_.size() * 2), kEmpty);
    const size_t mask = slots_.size() - 1;
    for (size_t group = 0; group < keyHashes_.size(); ++group) {
      size_t slot = static_cast<size_t>(keyHashes_[group]) & mask;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask;
      slots_[slot] = static_cast<int32_t>(group);
    }
  }

  std::vector<int32_t> slots_;  // group index or kEmpty; size is a power of two
  std::string keyBytes_;        // the group keys, concatenated
  std::vector<size_t> keyOffsets_ = {0};
  std::vector<uint64_t> keyHashes_;
  std::vector<int32_t> firstRows_;
  std::vector<int32_t> entryGroups_;
  std::vector<int32_t> entryRows_;
  std::vector<int32_t> offsets_;
  std::vector<int32_t> next_;
  std::vector<int32_t> rows_;
};

}  // namespace sluice::window
