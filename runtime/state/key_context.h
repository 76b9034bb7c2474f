// KeyContext: the record key a keyed operator is working on, and the
// deterministic byte encoding of key columns used as state keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/data/record_batch.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// Appends the key of row `row` over `keyColumns` to `out`: per column a
/// marker byte (0 null, 1 present) then int64/timestamp/uint64/float64 as 8
/// little-endian bytes, bool as one byte, string as a 4-byte little-endian
/// length plus its bytes. Deterministic across machines and builds; equal keys
/// give equal bytes. It is NOT the partitioning hash: take the key group from
/// `keyGroupsOf` (the exchange's hashKeys + keyGroupOf).
void appendSerializedKey(const RecordBatch& batch, int64_t row, const std::vector<int>& keyColumns, std::string& out);
/// appendSerializedKey into a fresh string.
std::string serializeKey(const RecordBatch& batch, int64_t row, const std::vector<int>& keyColumns);
/// The key group of every row, exactly as the keyed exchange assigns rows:
/// keyGroupOf(hashKeys(batch, keyColumns)[row], maxParallelism).
std::vector<int> keyGroupsOf(const RecordBatch& batch, const std::vector<int>& keyColumns, int maxParallelism);

/// The current record key of a keyed operator: set it once per key (or row),
/// then every typed state (ValueState, ListState, ...) built on this context
/// reads and writes that key's entries. Not thread-safe (the task thread).
class KeyContext {
 public:
  void setCurrentKey(std::string key, int keyGroup) {
    key_ = std::move(key);
    keyGroup_ = keyGroup;
  }
  /// Serialises row `row`'s key columns; `keyGroup` comes from keyGroupsOf.
  void setCurrentRow(const RecordBatch& batch, int64_t row, const std::vector<int>& keyColumns, int keyGroup) {
    key_.clear();
    appendSerializedKey(batch, row, keyColumns, key_);
    keyGroup_ = keyGroup;
  }
  const std::string& currentKey() const { return key_; }
  int currentKeyGroup() const { return keyGroup_; }
  /// The address of `state`'s entry for the current key (and `userKey` for map state).
  StateKey stateKey(int state, std::string_view userKey = {}) const {
    return StateKey{state, keyGroup_, key_, userKey};
  }

 private:
  std::string key_;
  int keyGroup_ = 0;
};

}  // namespace sluice
