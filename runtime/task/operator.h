// The operator contract: what the task runtime calls, in which order, on which thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/base/status.h"
#include "runtime/data/record_batch.h"
#include "runtime/task/stream_element.h"

namespace sluice {

class KeyedStateBackend;

/// Where an operator sends what it produces. Implemented by the runtime: the
/// next operator of a fused chain, or record writers that partition batches to
/// downstream channels. Only valid during the call it is passed to.
class Output {
 public:
  virtual ~Output() = default;
  /// Emits a batch on the main output. Empty batches may be dropped.
  virtual Status emit(RecordBatch batch) = 0;
  /// Emits a batch on the side output `tag` (for example "late"); batches on a
  /// tag nobody consumes are dropped.
  virtual Status emitSide(std::string_view tag, RecordBatch batch) = 0;
  /// Forwards event time to every output. Must not decrease.
  virtual Status emitWatermark(int64_t timestamp) = 0;
};

/// Per-subtask facts an operator may consult from open() on.
struct OperatorContext {
  std::string nodeId;
  int subtaskIndex = 0;
  int parallelism = 1;
  int maxParallelism = 128;
  int attempt = 0;
  std::string jobId;
  /// Keyed state of this subtask, owned by the runtime; set only for nodes
  /// planned with `PlannedNode::keyed` (their input is hash-partitioned, so
  /// every key this subtask sees belongs to its key-group range).
  KeyedStateBackend* keyedStateBackend = nullptr;
  /// The current processing time in epoch milliseconds (a function so that
  /// tests can control the clock); never null when set by the runtime.
  int64_t (*processingTime)() = nullptr;
  /// The job takes checkpoints: sinks commit on notifyCheckpointComplete (also
  /// what finish() wrote, with the job's final checkpoint), never on their own.
  bool checkpointing = false;
};

/// State an operator hands to a checkpoint, as named opaque blobs. Keyed state
/// backends add their own files beside it; this is the operator's own part.
struct OperatorSnapshot {
  std::map<std::string, std::string> blobs;
};

/// A stream operator. One instance per parallel subtask; the task calls every
/// method from its one mailbox thread, so an operator needs no locks.
///
/// Lifecycle, in order:
///   open → (processBatch | processWatermark | snapshotState |
///           notifyCheckpointComplete)* → finish → close
/// restoreState, when the job resumes from a checkpoint, comes before open.
/// close is always called, also after a failure or cancel (finish is not).
/// A non-OK Status fails the task; user code may throw, and the runtime turns
/// the exception into a failed task.
class Operator {
 public:
  virtual ~Operator() = default;

  /// Prepares resources. REQUIRES: called once, before any other processing.
  virtual Status open(const OperatorContext& context) {
    (void)context;
    return Status::OK();
  }

  /// Processes one batch that arrived on input `input` (0 for single-input
  /// operators; join sides are 0 and 1).
  virtual Status processBatch(int input, const RecordBatch& batch, Output& out) = 0;

  /// Event time advanced to `timestamp` (minimum over all inputs). The default
  /// forwards it; windowed operators fire what it completes first.
  virtual Status processWatermark(int64_t timestamp, Output& out) { return out.emitWatermark(timestamp); }

  /// Writes the operator's state for checkpoint `checkpointId` (the synchronous
  /// part of a snapshot, taken when the barrier has arrived on every input).
  virtual Status snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
    (void)checkpointId;
    (void)snapshot;
    return Status::OK();
  }

  /// Restores what snapshotState wrote. REQUIRES: before open().
  virtual Status restoreState(const OperatorSnapshot& snapshot) {
    (void)snapshot;
    return Status::OK();
  }

  /// Checkpoint `checkpointId` is complete everywhere: side effects may commit.
  virtual Status notifyCheckpointComplete(int64_t checkpointId) {
    (void)checkpointId;
    return Status::OK();
  }

  /// All inputs have ended (after the final +infinity watermark). Emit what is
  /// left; the output is still open.
  virtual Status finish(Output& out) {
    (void)out;
    return Status::OK();
  }

  /// Releases resources. Called exactly once, whatever happened before.
  virtual Status close() { return Status::OK(); }

  /// Records this operator has written to external systems, for sinks' summaries.
  virtual int64_t recordsWritten() const { return 0; }
};

}  // namespace sluice
