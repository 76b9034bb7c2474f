// CheckpointCoordinator: the job manager's side of asynchronous barrier
// snapshots for one job — triggering, collecting acknowledgements, writing
// `_metadata`, retention, and choosing the checkpoint a restart restores from.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/result.h"
#include "runtime/checkpoint/checkpoint_metadata.h"
#include "runtime/state/shared_state_registry.h"
#include "runtime/transport/control_codec.h"

namespace sluice {

struct CheckpointSettings {
  std::chrono::milliseconds interval{0};  // 0 = checkpointing off
  std::chrono::milliseconds timeout{600000};
  std::chrono::milliseconds minPause{0};
  int retained = 1;
  bool deleteOnCancel = false;
  std::string jobDirectory;  // <state.checkpoints.dir>/<job-id>
};

/// What the coordinator knows of one task of the current attempt.
struct CoordinatedTask {
  transport::TaskRef ref;
  std::string state;  // task state name (RUNNING, FINISHING, FINISHED, ...)
  bool isSource = false;
};

/// Not thread-safe: lives on the job manager's I/O thread.
///
/// One checkpoint at a time. A checkpoint is triggered when every task runs;
/// sources and tasks whose input has ended (FINISHING) are triggered directly,
/// the rest receive barriers. Tasks that have exited (FINISHED) contribute the
/// state they acknowledged last. It completes when every other task has
/// acknowledged: then `_metadata` is written atomically and only then does it
/// count. When every task is FINISHING, the final checkpoint is triggered at once.
class CheckpointCoordinator {
 public:
  CheckpointCoordinator(std::string jobId, std::string jobName, CheckpointSettings settings, int maxParallelism,
                        std::vector<std::pair<std::string, int>> parallelism);

  bool enabled() const { return settings_.interval.count() > 0; }
  /// Numbers the next checkpoint after `checkpointId` (resuming from it).
  void continueAfter(int64_t checkpointId) { nextId_ = std::max(nextId_, checkpointId + 1); }

  /// A checkpoint to start now, if one is due: the caller sends the trigger to
  /// every worker of the job. `savepoint` forces one (when none is pending).
  std::optional<transport::TriggerCheckpoint> maybeTrigger(const std::vector<CoordinatedTask>& tasks, uint32_t attempt,
                                                           bool force = false);
  /// For a task that reached FINISHING while a checkpoint is pending and has
  /// not acknowledged it: a trigger for that task alone.
  std::optional<transport::TriggerCheckpoint> triggerForEndedTask(const transport::TaskRef& task, uint32_t attempt);

  /// An acknowledgement. Returns the checkpoint id when this one completed it
  /// (its `_metadata` is durable); an error when writing it failed (the
  /// checkpoint is aborted).
  Result<std::optional<int64_t>> acknowledge(const transport::AcknowledgeCheckpoint& ack);
  void decline(const transport::DeclineCheckpoint& decline);
  /// Aborts a pending checkpoint that is older than the timeout.
  void checkTimeout();
  /// Aborts the pending checkpoint (the attempt failed or was canceled).
  void abortPending(const std::string& reason);
  /// The completion of `checkpointId` was sent to the tasks (sinks may commit).
  void markNotified(int64_t checkpointId);

  /// The `_metadata` path to restore from: the latest completed checkpoint, or
  /// an older one when the latest is damaged and no sink has committed it yet.
  /// An error naming the checkpoint when a committed one is damaged. nullopt
  /// when there is none.
  Result<std::optional<std::string>> restorePath();
  void markRestored(int64_t checkpointId);

  /// Copies completed checkpoint `checkpointId` into a self-contained savepoint
  /// under `directory`; returns the savepoint's path.
  Result<std::string> writeSavepoint(int64_t checkpointId, const std::string& directory);

  /// The job ended: deletes retained checkpoints if configured so.
  void jobEnded(bool canceledOrFailed);

  /// The last completed checkpoint was taken after every task had ended (the
  /// job's final checkpoint).
  bool lastCompletedWasFinal() const { return lastCompletedWasFinal_; }
  std::optional<int64_t> pendingId() const { return pending_ ? std::optional<int64_t>(pending_->id) : std::nullopt; }
  std::optional<int64_t> restoredFrom() const { return restoredFrom_; }
  /// The "checkpoints" object of `status --json`.
  nlohmann::json statusJson() const;

 private:
  struct Pending {
    int64_t id = 0;
    int64_t timestampMs = 0;
    std::chrono::steady_clock::time_point started;
    std::string directory;
    std::set<transport::TaskRef> awaiting;
    std::map<transport::TaskRef, TaskStateHandle> acknowledged;
    int64_t sizeBytes = 0;
    int64_t incrementalSizeBytes = 0;
    int64_t alignmentMs = 0;
    int64_t syncMs = 0;
    int64_t asyncMs = 0;
    int64_t startDelayMs = 0;
  };
  struct Completed {
    int64_t id = 0;
    std::string metadataPath;
    bool notified = false;
  };
  struct HistoryEntry {
    int64_t id = 0;
    std::string status;  // COMPLETED | FAILED | IN_PROGRESS
    int64_t triggeredAtMs = 0;
    int64_t durationMs = 0;
    int64_t sizeBytes = 0;
    int64_t incrementalSizeBytes = 0;
    int64_t alignmentMs = 0;
    int64_t syncMs = 0;        // longest synchronous part of a task
    int64_t asyncMs = 0;       // longest upload of a task
    int64_t startDelayMs = 0;  // longest wait of a task for its first barrier
    std::string failure;
  };

  void abort(const std::string& reason);
  void prune();
  HistoryEntry& history(int64_t id);

  std::string jobId_;
  std::string jobName_;
  CheckpointSettings settings_;
  int maxParallelism_;
  std::vector<std::pair<std::string, int>> parallelism_;
  SharedStateRegistry registry_;
  int64_t nextId_ = 1;
  std::optional<Pending> pending_;
  std::chrono::steady_clock::time_point lastTrigger_{};
  std::chrono::steady_clock::time_point lastEnd_{};
  std::map<transport::TaskRef, TaskStateHandle> lastHandles_;  // of tasks that acknowledged as finished
  // Tasks of attempt `finishedAttempt_` whose finished state is in a completed
  // checkpoint: they exit on its notification and acknowledge nothing more.
  std::set<transport::TaskRef> completedFinished_;
  bool lastCompletedWasFinal_ = false;
  uint32_t finishedAttempt_ = 0;
  std::vector<Completed> completed_;   // retained, oldest first
  std::vector<HistoryEntry> history_;  // newest last, bounded
  int64_t completedCount_ = 0;
  int64_t failedCount_ = 0;
  std::optional<int64_t> restoredFrom_;
  int restores_ = 0;
};

}  // namespace sluice
