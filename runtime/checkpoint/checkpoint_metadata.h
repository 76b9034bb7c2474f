// The state handles a checkpoint is made of, and their JSON form: what each
// task acknowledges and what the job manager writes to `_metadata`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

/// The state of one operator (node) of one subtask in one checkpoint. File
/// paths are relative to the checkpoint storage root (see StateSnapshot).
struct OperatorStateHandle {
  std::string node;                // the node id of the job file
  std::string operatorStateFile;   // OperatorSnapshot blobs; empty when there were none
  int64_t operatorStateBytes = 0;  // size of that file
  std::optional<StateSnapshot> keyedState;
  bool isSource = false;
  std::string sourcePosition;  // SourceReader::snapshotPosition (sources only)
};

/// The state of one task (chain × subtask). `finished` marks a task whose input
/// had ended: on restore its sources emit nothing more.
struct TaskStateHandle {
  std::string head;  // chain head node id
  int subtask = 0;
  bool finished = false;
  std::vector<OperatorStateHandle> operators;
};

/// A completed checkpoint or savepoint: the content of its `_metadata` file.
struct CheckpointMetadata {
  static constexpr int kFormatVersion = 1;
  std::string jobId;
  std::string jobName;
  int64_t checkpointId = 0;
  int64_t timestampMs = 0;
  bool savepoint = false;
  int maxParallelism = 0;
  /// The storage root relative to the directory holding `_metadata`: ".." for
  /// `<dir>/<job>/chk-<n>/_metadata`, "." for a self-contained savepoint.
  std::string root = "..";
  /// node id → parallelism at the time of the checkpoint.
  std::vector<std::pair<std::string, int>> parallelism;
  std::vector<TaskStateHandle> tasks;

  /// Every file the checkpoint needs (relative to the root), deduplicated.
  std::vector<std::string> files() const;
  int64_t sizeBytes() const;
};

std::string toJson(const TaskStateHandle& task);
/// Corruption naming `where` when the text is not a task state handle.
Result<TaskStateHandle> parseTaskStateHandle(std::string_view json, std::string_view where);

std::string toJson(const CheckpointMetadata& metadata);
Result<CheckpointMetadata> parseCheckpointMetadata(std::string_view json, std::string_view where);

}  // namespace sluice
