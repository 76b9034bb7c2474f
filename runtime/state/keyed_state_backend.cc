#include "runtime/state/keyed_state_backend.h"

#include <algorithm>

#include <fmt/format.h>

#include "runtime/state/hash_map_state_backend.h"
#include "runtime/state/rocksdb_state_backend.h"

namespace sluice {

namespace {

// An upload whose files were already written by a synchronous snapshot.
class CompletedUpload final : public SnapshotUpload {
 public:
  explicit CompletedUpload(StateSnapshot snapshot) : snapshot_(std::move(snapshot)) {}
  Result<StateSnapshot> run() override { return std::move(snapshot_); }

 private:
  StateSnapshot snapshot_;
};

}  // namespace

Result<std::unique_ptr<SnapshotUpload>> KeyedStateBackend::beginSnapshot(int64_t checkpointId,
                                                                         const std::string& directory) {
  SLUICE_ASSIGN_OR_RETURN(StateSnapshot snapshot, this->snapshot(checkpointId, directory));
  return std::unique_ptr<SnapshotUpload>(std::make_unique<CompletedUpload>(std::move(snapshot)));
}

KeyGroupRange KeyGroupRange::forSubtask(int subtask, int parallelism, int maxParallelism) {
  // Flink's KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex: the inverse of
  // subtaskForKeyGroup (keyGroup * parallelism / maxParallelism).
  int64_t first = (static_cast<int64_t>(subtask) * maxParallelism + parallelism - 1) / parallelism;
  int64_t last = ((static_cast<int64_t>(subtask) + 1) * maxParallelism - 1) / parallelism;
  return KeyGroupRange{static_cast<int>(first), static_cast<int>(last)};
}

KeyGroupRange KeyGroupRange::intersect(const KeyGroupRange& other) const {
  return KeyGroupRange{std::max(first, other.first), std::min(last, other.last)};
}

Status validateStateBackendOptions(const StateBackendOptions& options) {
  if (options.maxParallelism <= 0 || options.maxParallelism > kMaxStateMaxParallelism) {
    return Status::invalidArgument(
        fmt::format("max parallelism must be in [1, {}], got {}", kMaxStateMaxParallelism, options.maxParallelism));
  }
  const KeyGroupRange& range = options.keyGroups;
  if (range.first < 0 || range.last >= options.maxParallelism || range.empty()) {
    return Status::invalidArgument(fmt::format("key-group range [{}, {}] is not a non-empty part of [0, {}]",
                                               range.first, range.last, options.maxParallelism - 1));
  }
  return Status::OK();
}

Result<std::unique_ptr<KeyedStateBackend>> createKeyedStateBackend(const StateBackendOptions& options) {
  if (options.type == "rocksdb") {
    SLUICE_ASSIGN_OR_RETURN(auto backend, RocksDbStateBackend::open(options));
    return std::unique_ptr<KeyedStateBackend>(std::move(backend));
  }
  if (options.type == "hashmap") {
    SLUICE_ASSIGN_OR_RETURN(auto backend, HashMapStateBackend::open(options));
    return std::unique_ptr<KeyedStateBackend>(std::move(backend));
  }
  return Status::invalidArgument(
      fmt::format("unknown state backend type '{}' (state.backend.type): use 'rocksdb' or 'hashmap'", options.type));
}

}  // namespace sluice
