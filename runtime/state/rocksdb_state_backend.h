// RocksDbStateBackend: keyed state in one RocksDB instance per operator
// subtask, with incremental (hard-linked SST) snapshots; and RocksDbResources,
// the memory and threads all instances of a process share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/state/snapshot_files.h"

namespace sluice {

struct RocksDbResourceOptions {
  int64_t blockCacheBytes = int64_t{256} << 20;
  /// Memtable memory of all instances together (charged to the block cache).
  int64_t writeBufferBytes = int64_t{64} << 20;
  /// Background flush and compaction threads of RocksDB's default Env.
  int backgroundThreads = 2;
};

/// The block cache and write buffer manager shared by RocksDB instances, so
/// memory stays bounded however many keyed subtasks a worker runs. Immutable
/// after creation and thread-safe; RocksDB's default Env thread pool is
/// process-wide anyway and is sized by `backgroundThreads`.
class RocksDbResources {
 public:
  /// The process-wide instance, created on first use (with the options given
  /// to `configureProcessWide`, or the defaults).
  static std::shared_ptr<RocksDbResources> processWide();
  /// Sets the process-wide instance's options (a worker calls it once at
  /// start-up); InvalidArgument when the instance already exists with other
  /// options or a size is not positive.
  static Status configureProcessWide(const RocksDbResourceOptions& options);
  /// A separate set of resources (tests, tools).
  static Result<std::shared_ptr<RocksDbResources>> make(const RocksDbResourceOptions& options);

  ~RocksDbResources();
  const RocksDbResourceOptions& options() const { return options_; }
  /// Bytes currently held by the block cache (including charged memtables).
  int64_t blockCacheUsage() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  RocksDbResources(RocksDbResourceOptions options, std::unique_ptr<Impl> impl);
  RocksDbResourceOptions options_;
  std::unique_ptr<Impl> impl_;
};

/// Per-instance settings of RocksDbStateBackend beyond StateBackendOptions.
struct RocksDbBackendSettings {
  std::shared_ptr<RocksDbResources> resources;   // null: RocksDbResources::processWide()
  HardLinkFunction hardLink;                     // null: createHardLink (tests inject failures)
  int64_t writeBufferBytes = int64_t{16} << 20;  // memtable size of this instance
};

/// RocksDB-backed keyed state (state.backend.type: rocksdb), modelled on
/// Flink's EmbeddedRocksDBStateBackend.
///
/// - The database lives in `<options.directory>/db`; the backend owns it,
///   wipes it on open and deletes it on destruction (checkpoints, not the
///   working copy, provide durability; the WAL is off).
/// - Keys: `[keyGroup 2B BE][state id 2B BE][key length 4B BE][key][userKey]`
///   (state_layout.h); the state name table is stored in the database under
///   the reserved key group 0xFFFF, so a restored instance agrees on ids.
/// - Values carry an 8-byte TTL deadline; list state appends through a merge
///   operator; a compaction filter drops expired entries.
/// - Writes are buffered in a WriteBatch that is written before every read,
///   scan and snapshot (read-your-writes) and when it grows large.
/// - Snapshots hard-link SST files into `<directory>/../shared/` under unique
///   names (a copy when linking fails) and copy MANIFEST, CURRENT and OPTIONS;
///   SSTs of the last confirmed checkpoint are referenced, not written again.
/// - Restore opens the snapshot with the largest overlap as the database
///   (deleting key groups outside the range) and copies the matching entries
///   of the other snapshots into it.
/// Thread-safety: one thread (the task's), as KeyedStateBackend.
class RocksDbStateBackend final : public KeyedStateBackend {
 public:
  using Settings = RocksDbBackendSettings;

  static Result<std::unique_ptr<RocksDbStateBackend>> open(const StateBackendOptions& options, Settings settings = {});
  ~RocksDbStateBackend() override;

  std::string_view type() const override { return "rocksdb"; }
  KeyGroupRange keyGroups() const override;
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
  void setCurrentTime(int64_t millis) override;
  /// Synchronous part: writes buffered updates, flushes the memtable and pins
  /// the live files. The upload links new SSTs into `shared/` and copies the
  /// small mutable files.
  Result<std::unique_ptr<SnapshotUpload>> beginSnapshot(int64_t checkpointId, const std::string& directory) override;
  Result<StateSnapshot> snapshot(int64_t checkpointId, const std::string& directory) override;
  Status notifyCheckpointComplete(int64_t checkpointId) override;
  Status restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) override;

  /// The database directory (tests compare inodes of its SST files).
  std::string databaseDirectory() const;
  /// Flushes and fully compacts (runs the TTL compaction filter everywhere).
  Status compactForTesting();
  /// Entries physically stored (after compaction, for TTL tests), excluding the name table.
  Result<int64_t> countStoredEntriesForTesting();

  struct Impl;
  class Upload;

 private:
  explicit RocksDbStateBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
