// The task's side of checkpointing: what a task hands to the executor when it
// takes a snapshot, and how the executor persists and acknowledges it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/task/operator.h"

namespace sluice {

class KeyedStateBackend;
class Task;

/// The synchronous part of one operator's snapshot, taken on the task thread
/// at the barrier: its blobs, its keyed state backend (snapshotted by the
/// handler before the task processes anything else) and, for a source, the
/// reader's position.
struct OperatorCheckpointState {
  std::string node;
  OperatorSnapshot snapshot;
  KeyedStateBackend* keyedState = nullptr;
  bool isSource = false;
  std::string sourcePosition;
};

/// Everything one task contributes to checkpoint `checkpointId`.
struct TaskCheckpointState {
  int64_t checkpointId = 0;
  bool finished = false;  // the task's input had ended
  int64_t alignmentMs = 0;
  int64_t startDelayMs = 0;  // from the trigger to the first barrier's arrival (wall clocks)
  std::vector<OperatorCheckpointState> operators;
};

/// Implemented by the executor (worker/): writes a task's state to checkpoint
/// storage and acknowledges it to the coordinator, or declines the checkpoint.
/// Called on the task's thread; must not call back into the task.
class CheckpointHandler {
 public:
  virtual ~CheckpointHandler() = default;
  /// Takes the synchronous part of the snapshot (keyed backends capture their
  /// state at the cut) and starts persisting `state`; the files may be written
  /// and the acknowledgement sent later, from another thread (which declines
  /// the checkpoint itself if that fails). A non-OK status declines the
  /// checkpoint now (it does not fail the task). `state` may be moved from.
  virtual Status persistAndAcknowledge(Task& task, TaskCheckpointState& state) = 0;
  /// Tells the coordinator that this task cannot take checkpoint `checkpointId`.
  virtual void decline(Task& task, int64_t checkpointId, const Status& reason) = 0;
};

}  // namespace sluice
