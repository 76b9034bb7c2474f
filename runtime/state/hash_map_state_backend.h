// HashMapStateBackend: keyed state in memory (state.backend.type: hashmap),
// snapshotted as one file per checkpoint.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/state/keyed_state_backend.h"
#include "runtime/state/state_catalog.h"

namespace sluice {

/// In-memory keyed state, for small state and speed; behaves exactly like
/// RocksDbStateBackend (same tests) except that `scanAll` visits the keys of
/// a key group in no particular order. Per state and key group it keeps a
/// hash table of keys; map state keeps a sorted map per key.
///
/// Snapshots serialise every unexpired entry to one file
/// `<directory>/<instance>-<checkpointId>.hashmap` (format in
/// snapshot_format.h) — full, not incremental. Restore reads the entries of
/// the owned key groups from hashmap or rocksdb snapshots.
/// Thread-safety: one thread (the task's), as KeyedStateBackend.
class HashMapStateBackend final : public KeyedStateBackend {
 public:
  static Result<std::unique_ptr<HashMapStateBackend>> open(const StateBackendOptions& options);

  std::string_view type() const override { return "hashmap"; }
  KeyGroupRange keyGroups() const override { return options_.keyGroups; }
  Result<int> registerState(const StateDescriptor& descriptor) override;
  Result<std::optional<std::string>> get(const StateKey& key) override;
  Status put(const StateKey& key, std::string_view value) override;
  Status remove(const StateKey& key) override;
  Status clear(const StateKey& key) override;
  Status append(const StateKey& key, std::string_view element) override;
  Status putList(const StateKey& key, const std::vector<std::string>& elements) override;
  Result<std::vector<std::string>> getList(const StateKey& key) override;
  Status scanMap(const StateKey& key,
                 const std::function<bool(std::string_view userKey, std::string_view value)>& visit) override;
  Status scanAll(int state, const std::function<bool(int keyGroup, std::string_view key, std::string_view userKey,
                                                     std::string_view value)>& visit) override;
  void setCurrentTime(int64_t millis) override { clock_.set(millis); }
  /// Synchronous part: encodes the live entries; the upload writes the file.
  Result<std::unique_ptr<SnapshotUpload>> beginSnapshot(int64_t checkpointId, const std::string& directory) override;
  Result<StateSnapshot> snapshot(int64_t checkpointId, const std::string& directory) override;
  Status restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) override;

 private:
  struct Slot {
    int64_t expiry = 0;
    std::string value;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  template <typename T>
  using KeyTable = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;
  /// The entries of one state in one key group; only the table of the state's kind is used.
  struct KeyGroupTable {
    KeyTable<Slot> values;
    KeyTable<std::vector<Slot>> lists;
    KeyTable<std::map<std::string, Slot, std::less<>>> maps;
  };

  explicit HashMapStateBackend(StateBackendOptions options) : options_(std::move(options)) {}
  KeyGroupTable& table(const StateKey& key) { return tables_[key.state][key.keyGroup - options_.keyGroups.first]; }
  int64_t expiryFor(const StateInfo& info) const;
  Result<int> addState(std::string_view name, StateKind kind, const StateDescriptor* descriptor);

  StateBackendOptions options_;
  StateCatalog catalog_;
  TtlClock clock_;
  std::string instanceId_;
  bool restoreAllowed_ = true;
  std::vector<std::vector<KeyGroupTable>> tables_;  // [state][keyGroup - first]
};

}  // namespace sluice
