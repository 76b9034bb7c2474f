// Reading snapshots entry by entry (for restores that rescale or change the
// backend type) and the file format of the hashmap backend's snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/state/snapshot_files.h"

namespace sluice {

/// One stored entry; list state yields one entry per element, in list order.
/// The views are valid during the visitor call only.
struct SnapshotEntry {
  std::string_view stateName;
  StateKind kind = StateKind::kValue;
  int keyGroup = 0;
  std::string_view key;
  std::string_view userKey;
  int64_t expiry = 0;
  std::string_view value;
};
using SnapshotEntryVisitor = std::function<Status(const SnapshotEntry&)>;

/// Visits the entries of a checked snapshot (see checkSnapshot) whose key
/// group is in `keyGroups` and that have not expired at `now`. Entries of one
/// record key come together. `scratchDirectory` is used (and removed) when
/// the format needs files of its own (RocksDB opens a read-only copy).
Status readSnapshotEntries(const SnapshotManifest& manifest, const std::string& root, const KeyGroupRange& keyGroups,
                           const std::string& scratchDirectory, int64_t now, const HardLinkFunction& hardLink,
                           const SnapshotEntryVisitor& visit);

/// The RocksDB part of readSnapshotEntries (rocksdb_state_backend.cc).
Status readRocksDbSnapshotEntries(const SnapshotManifest& manifest, const std::string& root,
                                  const KeyGroupRange& keyGroups, const std::string& scratchDirectory, int64_t now,
                                  const HardLinkFunction& hardLink, const SnapshotEntryVisitor& visit);

/// Builds a hashmap snapshot file:
///   "SLHM" | version u32 | state count u32 | (id u16, kind u8, name length u32, name)*
///   | entry count u64 | (state u16, key group u16, expiry u64, key, user key, value as length u32 + bytes)*
///   | XXH3-64 of everything before, u64
/// All integers big-endian. Not thread-safe.
class HashMapSnapshotEncoder {
 public:
  void addState(int id, std::string_view name, StateKind kind);
  void addEntry(int state, int keyGroup, std::string_view key, std::string_view userKey, int64_t expiry,
                std::string_view value);
  /// The whole file.
  std::string finish() const;

 private:
  std::string states_;
  uint32_t stateCount_ = 0;
  std::string entries_;
  uint64_t entryCount_ = 0;
};

/// Visits the entries of a hashmap snapshot file's bytes within `keyGroups`
/// and unexpired at `now`. Corruption naming `path` when damaged.
Status decodeHashMapSnapshot(std::string_view bytes, const std::string& path, const KeyGroupRange& keyGroups,
                             int64_t now, const SnapshotEntryVisitor& visit);

}  // namespace sluice
