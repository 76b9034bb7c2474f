// JobExecution: the tasks of one job attempt that run in this process, wired
// to each other by local channels.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/base/serial_executor.h"
#include "runtime/checkpoint/checkpoint_metadata.h"
#include "runtime/checkpoint/checkpoint_storage.h"
#include "runtime/graph/job_graph.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/task/task.h"

namespace sluice::transport {
class DataPlane;
}

namespace sluice {

/// Where each task (chain head node × subtask) runs. Empty = every task here.
struct TaskPlacement {
  std::string workerId;
  std::string dataEndpoint;
};

struct ExecutionOptions {
  std::string jobId;
  /// This process's worker id; tasks placed elsewhere are not created here.
  std::string localWorkerId;
  /// (chain head node id, subtask) → placement; empty runs the whole job here.
  std::map<std::pair<std::string, int>, TaskPlacement> placements;
  /// Carries channels to and from tasks in other processes; required when a
  /// placement names another worker.
  transport::DataPlane* dataPlane = nullptr;
  int attempt = 0;
  std::chrono::milliseconds bufferTimeout{5};
  /// Where keyed operators keep local state: one sub-directory per keyed
  /// subtask under `stateDirectory` (removed with the execution).
  std::string stateDirectory;
  std::string stateBackendType = "rocksdb";  // state.backend.type
  size_t channelCapacity = 8;                // batches in flight per channel (the receiver's credit)
  int64_t targetBatchRows = 4096;
  /// Tasks take part in checkpoints (the job sets execution.checkpointing.interval).
  bool checkpointing = false;
  /// The checkpoint to restore from, if any.
  std::shared_ptr<const LoadedCheckpoint> restore;
};

/// What a task reports for a checkpoint: its state handle, or why it declined.
struct CheckpointReport {
  int64_t checkpointId = 0;
  std::string node;  // chain head
  int subtask = 0;
  Status declined;  // OK for an acknowledgement
  TaskStateHandle state;
  int64_t alignmentMs = 0;
  int64_t syncMs = 0;        // the synchronous part on the task thread
  int64_t asyncMs = 0;       // the upload, from the end of the synchronous part to the acknowledgement
  int64_t startDelayMs = 0;  // from the trigger to the first barrier at the task
  int64_t sizeBytes = 0;
  int64_t incrementalSizeBytes = 0;
};

/// Counters for summaries and status; read while the job runs.
struct ExecutionCounters {
  int64_t recordsRead = 0;     // by sources
  int64_t recordsWritten = 0;  // by sinks
};

/// Builds every task of a job graph (every chain × subtask), wires channels
/// and runs them. The job ends when every task has finished, or fails as soon
/// as one task fails (the others are cancelled). Thread-safe.
class JobExecution : public CheckpointHandler {
 public:
  static Result<std::unique_ptr<JobExecution>> create(const JobGraph& graph, const ExecutionOptions& options);
  ~JobExecution();

  void start();
  /// Cancels every task and releases blocked producers.
  void cancel();
  /// Waits until every task has stopped; returns the first failure, Cancelled
  /// after cancel(), or OK.
  Status wait();
  /// Like wait, with a deadline; returns false if still running.
  bool waitFor(std::chrono::milliseconds timeout);
  bool done() const;

  ExecutionCounters counters() const;
  /// One entry per task: name and state.
  std::vector<std::pair<std::string, TaskState>> taskStates() const;

  /// Live metrics of one task, for periodic reports.
  struct TaskMetrics {
    std::string node;  // chain head
    int subtask = 0;
    TaskState state = TaskState::kCreated;
    int64_t recordsIn = 0;
    int64_t recordsOut = 0;  // for a task with a sink: records written
    int64_t backpressuredNanos = 0;
    std::vector<std::pair<std::string, int64_t>> watermarks;
  };
  std::vector<TaskMetrics> metrics() const;

  /// Called (from task threads) whenever a task of this execution changes state,
  /// with its chain head node id, subtask, records in and records out (for a
  /// task with a sink: records written). REQUIRES: set before start().
  using TaskListener = std::function<void(const std::string& node, int subtask, TaskState state, const Status& status,
                                          int64_t recordsIn, int64_t recordsOut)>;
  void setTaskListener(TaskListener listener) { listener_ = std::move(listener); }
  /// Called (from task threads) for every checkpoint acknowledgement or decline.
  /// REQUIRES: set before start().
  using CheckpointListener = std::function<void(const CheckpointReport& report)>;
  void setCheckpointListener(CheckpointListener listener) { checkpointListener_ = std::move(listener); }

  /// Starts checkpoint `checkpointId`: its files go to `directory` (shared
  /// ones to `directory/../shared`); `tasks` (chain head, subtask) are
  /// triggered directly, the others snapshot when barriers reach them.
  void triggerCheckpoint(int64_t checkpointId, int64_t timestampMs, const std::string& directory,
                         const std::vector<std::pair<std::string, int>>& tasks);
  /// `stop --drain`: every source task here ends its input as if it were
  /// bounded (final watermark, operators finish, the final checkpoint).
  void drainSources();
  /// Checkpoint `checkpointId` is durable: every task may commit.
  void notifyCheckpointComplete(int64_t checkpointId);

  Status persistAndAcknowledge(Task& task, TaskCheckpointState& state) override;
  void decline(Task& task, int64_t checkpointId, const Status& reason) override;

  /// The stable 64-bit key of a job id used to tag its network messages.
  static uint64_t jobKeyOf(const std::string& jobId);

 private:
  JobExecution() = default;
  void onTaskState(Task& task, TaskState state, const Status& status);
  /// One task's checkpoint between its synchronous part and its acknowledgement.
  struct PendingUpload {
    struct Operator {
      OperatorStateHandle handle;
      std::unique_ptr<SnapshotUpload> keyedUpload;
      OperatorSnapshot snapshot;
    };
    std::string directory;
    CheckpointReport report;
    std::vector<Operator> operators;
    std::chrono::steady_clock::time_point started;
  };
  Status runUpload(PendingUpload& upload);

  ExecutionOptions options_;
  struct TaskInfo {
    std::string node;
    int subtask = 0;
    bool hasSink = false;
  };
  // Declared before tasks_: destroyed after them.
  std::vector<std::unique_ptr<KeyedStateBackend>> stateBackends_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::map<const Task*, TaskInfo> taskInfo_;
  std::vector<std::unique_ptr<OutputChannel>> remoteOutputs_;
  TaskListener listener_;
  CheckpointListener checkpointListener_;
  std::map<std::pair<std::string, int>, Task*> tasksByRef_;
  std::map<int64_t, std::string> checkpointDirectories_;  // guarded by mutex_
  std::vector<Task*> sourceTasks_;
  std::vector<Task*> sinkTasks_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_ = 0;
  Status failure_;
  bool cancelled_ = false;
  // Runs checkpoint uploads one at a time. Declared last: destroyed (after
  // finishing the queued uploads) before the tasks and state backends.
  std::unique_ptr<SerialExecutor> uploader_ = std::make_unique<SerialExecutor>("sluice-upload");
};

}  // namespace sluice
