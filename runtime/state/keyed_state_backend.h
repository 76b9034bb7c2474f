// The keyed state backend contract: byte-level keyed state of one operator
// subtask, split into key groups, with snapshots for checkpoints.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace sluice {

/// An inclusive range of key groups [first, last] owned by one subtask.
struct KeyGroupRange {
  int first = 0;
  int last = -1;
  bool contains(int keyGroup) const { return keyGroup >= first && keyGroup <= last; }
  int size() const { return last - first + 1; }
  bool empty() const { return last < first; }
  bool operator==(const KeyGroupRange&) const = default;
  /// The range subtask `subtask` of `parallelism` owns out of `maxParallelism` groups (as Flink).
  /// Consistent with `subtaskForKeyGroup` in runtime/data/key_group.h.
  static KeyGroupRange forSubtask(int subtask, int parallelism, int maxParallelism);
  /// The groups in both ranges (possibly empty).
  KeyGroupRange intersect(const KeyGroupRange& other) const;
};

/// Largest supported max parallelism: key groups are stored in two bytes and
/// 0xFFFF is reserved for the backend's own metadata.
inline constexpr int kMaxStateMaxParallelism = 32768;

/// Kinds of state. At the byte level value, reducing and aggregating state
/// behave alike (one value per key); list state is an ordered list of
/// elements per key; map state is a sorted map per key.
enum class StateKind { kValue, kList, kMap, kReducing, kAggregating };

/// "value", "list", "map", "reducing", "aggregating".
std::string_view stateKindName(StateKind kind);

/// Declares one named state of an operator. `ttl`: entries expire that long
/// after their last write and are never returned after the deadline. For list
/// state each element expires on its own; for map state each entry.
struct StateDescriptor {
  std::string name;
  StateKind kind = StateKind::kValue;
  std::optional<std::chrono::milliseconds> ttl;
};

/// A state entry's address: the state, the key group of the record key, the
/// serialized record key and (for map entries) the serialized user key.
struct StateKey {
  int state = 0;
  int keyGroup = 0;
  std::string_view key;
  std::string_view userKey;  // empty except for map entries
};

/// What a snapshot wrote: files under the checkpoint storage plus metadata
/// needed to restore (opaque to the caller; store it in the checkpoint's
/// `_metadata`).
///
/// Layout: `snapshot(id, directory)` writes this subtask's private files into
/// `directory` (names are unique per backend instance, so several subtasks may
/// share one directory) and RocksDB's immutable SST files into the sibling
/// directory `<directory>/../shared/`. `files` are relative to the parent of
/// `directory` (the "root"), so pass that parent — or wherever the tree was
/// moved to as a whole — to `restore`. Example: directory `<job>/chk-7` gives
/// root `<job>`, files `chk-7/<...>-MANIFEST-000009` and `shared/<...>-000012.sst`.
struct StateSnapshot {
  std::string backendType;  // "rocksdb" | "hashmap"
  KeyGroupRange keyGroups;
  std::vector<std::string> files;    // paths relative to the checkpoint storage root
  std::string metadata;              // backend-specific
  int64_t sizeBytes = 0;             // all files of this snapshot
  int64_t incrementalSizeBytes = 0;  // bytes new in this checkpoint (not shared with an earlier one)
  int64_t checkpointId = 0;
};

/// The asynchronous part of a snapshot: writes the files captured at the cut.
/// Used by one thread at a time; may outlive nothing but its backend.
class SnapshotUpload {
 public:
  virtual ~SnapshotUpload() = default;
  /// Writes the files and returns the snapshot's handle. Called at most once.
  virtual Result<StateSnapshot> run() = 0;
};

/// Keyed state of one operator subtask. Keys are grouped by key group so a
/// key-group range can be cut out and moved when the job is rescaled.
///
/// Lifecycle: create → [restore] → registerState... → reads, writes and
/// snapshots → destroy. `restore`, when used, must come before any
/// `registerState`. Every call validates its StateKey (registered state, key
/// group in range, user key only for map state) and returns InvalidArgument
/// otherwise.
///
/// Thread-safety: used by the owning task thread only (the mailbox model), except
/// that the SnapshotUpload returned by `beginSnapshot` may run on another thread.
/// Visitors passed to `scanMap`/`scanAll` must not modify the backend; collect
/// what to change and apply it after the scan.
class KeyedStateBackend {
 public:
  virtual ~KeyedStateBackend() = default;

  /// "rocksdb" or "hashmap".
  virtual std::string_view type() const = 0;
  /// The key groups this backend owns.
  virtual KeyGroupRange keyGroups() const = 0;

  /// Registers (or finds, on restore) a named state; returns its id for
  /// StateKey::state. Re-registering a name with another kind is an error; the
  /// TTL may change (it applies to later writes).
  virtual Result<int> registerState(const StateDescriptor& descriptor) = 0;

  /// The current value, or nullopt (absent or expired). For map state: the
  /// entry under `key.userKey`. Not for list state.
  virtual Result<std::optional<std::string>> get(const StateKey& key) = 0;
  /// Sets the value (map state: the entry under `key.userKey`). Not for list state.
  virtual Status put(const StateKey& key, std::string_view value) = 0;
  /// Removes the value, the whole list, or (map state) the entry under `key.userKey`.
  virtual Status remove(const StateKey& key) = 0;
  /// Removes everything stored under (state, keyGroup, key) — for map state
  /// every entry; otherwise the same as `remove`.
  virtual Status clear(const StateKey& key) = 0;
  /// Appends to list state (one element per call).
  virtual Status append(const StateKey& key, std::string_view element) = 0;
  /// Replaces list state's elements (empty removes the list).
  virtual Status putList(const StateKey& key, const std::vector<std::string>& elements) = 0;
  /// List state's unexpired elements in insertion order (empty when absent).
  virtual Result<std::vector<std::string>> getList(const StateKey& key) = 0;
  /// Visits the unexpired map entries under (state, keyGroup, key) in user-key
  /// byte order; the visitor returns false to stop.
  virtual Status scanMap(const StateKey& key,
                         const std::function<bool(std::string_view userKey, std::string_view value)>& visit) = 0;
  /// Visits every unexpired entry of `state` in the owned key groups (for
  /// timers, draining), key group by key group; within a group rocksdb visits
  /// keys in byte order, hashmap in no particular order. List state is visited
  /// once per element (userKey empty), in list order.
  virtual Status scanAll(int state,
                         const std::function<bool(int keyGroup, std::string_view key, std::string_view userKey,
                                                  std::string_view value)>& visit) = 0;

  /// Time used for TTL, epoch milliseconds (the wall clock until first set; tests set it).
  virtual void setCurrentTime(int64_t millis) = 0;

  /// The synchronous part of a snapshot for `checkpointId`: captures the state
  /// at the cut (RocksDB: flushes the memtable and pins the live files; hashmap:
  /// encodes the entries) and returns the upload that writes the files under
  /// `directory` (see StateSnapshot for the layout). The upload may run on
  /// another thread while this backend goes on changing; it must finish or be
  /// destroyed before the backend is. Uploads of one backend run one at a time,
  /// in order. Default: the whole snapshot runs here and the upload returns it.
  virtual Result<std::unique_ptr<SnapshotUpload>> beginSnapshot(int64_t checkpointId, const std::string& directory);
  /// beginSnapshot and its upload, both on the calling thread: the files are
  /// complete when it returns. REQUIRES: no concurrent writes during the call.
  virtual Result<StateSnapshot> snapshot(int64_t checkpointId, const std::string& directory) = 0;
  /// Checkpoint `checkpointId` completed: its shared files may be referenced by
  /// later incremental snapshots (only confirmed files are reused, so an
  /// aborted checkpoint's files are never relied on). Default: nothing to do.
  virtual Status notifyCheckpointComplete(int64_t checkpointId) {
    (void)checkpointId;
    return Status::OK();
  }
  /// Loads the entries of `snapshots` that fall into this backend's key-group
  /// range (several snapshots when scaling in, a part of one when scaling out);
  /// snapshots outside the range are ignored. `root` is the directory
  /// StateSnapshot::files are relative to. REQUIRES: a fresh backend (no state
  /// registered yet). A missing or damaged file gives NotFound/Corruption
  /// naming it.
  virtual Status restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) = 0;
};

/// Settings of one backend. Backends in a worker share one RocksDB block
/// cache, write buffer manager and thread pool per process (see
/// RocksDbResources in rocksdb_state_backend.h).
struct StateBackendOptions {
  std::string type = "rocksdb";  // "rocksdb" | "hashmap" (config key state.backend.type)
  std::string directory;         // working directory of this subtask's instance (rocksdb); owned by the backend
  KeyGroupRange keyGroups;
  int maxParallelism = 128;
};

/// InvalidArgument unless 0 < maxParallelism <= kMaxStateMaxParallelism and
/// keyGroups is a non-empty part of [0, maxParallelism).
Status validateStateBackendOptions(const StateBackendOptions& options);

/// Creates a backend of `options.type`; InvalidArgument for an unknown type,
/// a bad key-group range or a missing directory.
Result<std::unique_ptr<KeyedStateBackend>> createKeyedStateBackend(const StateBackendOptions& options);

}  // namespace sluice
