// SharedStateRegistry: reference counts of checkpoint files, so a shared SST
// file is deleted exactly when no retained checkpoint uses it any more.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// Tracks which retained checkpoints use which files (paths relative to one
/// checkpoint storage root), like Flink's SharedStateRegistry. Incremental
/// snapshots make checkpoint n+1 reference SST files first written for
/// checkpoint n; when the job manager subsumes or discards a checkpoint it
/// releases it here, and files that no retained checkpoint references are
/// deleted. Exclusive files (one user) work the same way.
/// Thread-safe (internally locked); the job manager's checkpoint coordinator
/// is the intended single owner per job.
class SharedStateRegistry {
 public:
  explicit SharedStateRegistry(std::string root) : root_(std::move(root)) {}

  /// Records that checkpoint `checkpointId` uses `files` (duplicates count once).
  /// AlreadyExists when the checkpoint is already registered.
  Status registerCheckpoint(int64_t checkpointId, const std::vector<std::string>& files);
  /// Registers the files of every snapshot of one checkpoint.
  Status registerCheckpoint(int64_t checkpointId, const std::vector<StateSnapshot>& snapshots);
  /// Forgets `checkpointId` and deletes the files it was the last user of;
  /// returns them (relative paths). NotFound for an unknown checkpoint; an
  /// IOError when a file cannot be deleted (it stays unreferenced; missing
  /// files count as deleted).
  Result<std::vector<std::string>> releaseCheckpoint(int64_t checkpointId);

  /// How many retained checkpoints use `file`.
  int referenceCount(const std::string& file) const;
  /// Registered checkpoint ids, ascending.
  std::vector<int64_t> retainedCheckpoints() const;

 private:
  std::string root_;
  mutable std::mutex mutex_;
  std::map<int64_t, std::set<std::string>> checkpoints_;
  std::map<std::string, int> references_;
};

}  // namespace sluice
