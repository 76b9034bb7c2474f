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

#include "runtime/graph/job_graph.h"
#include "runtime/task/task.h"

namespace sluice {
class KeyedStateBackend;
}

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
};

/// Counters for summaries and status; read while the job runs.
struct ExecutionCounters {
  int64_t recordsRead = 0;     // by sources
  int64_t recordsWritten = 0;  // by sinks
};

/// Builds every task of a job graph (every chain × subtask), wires channels
/// and runs them. The job ends when every task has finished, or fails as soon
/// as one task fails (the others are cancelled). Thread-safe.
class JobExecution {
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

  /// Called (from task threads) whenever a task of this execution changes state,
  /// with its chain head node id, subtask, records in and records out (for a
  /// task with a sink: records written). REQUIRES: set before start().
  using TaskListener = std::function<void(const std::string& node, int subtask, TaskState state, const Status& status,
                                          int64_t recordsIn, int64_t recordsOut)>;
  void setTaskListener(TaskListener listener) { listener_ = std::move(listener); }
  /// The stable 64-bit key of a job id used to tag its network messages.
  static uint64_t jobKeyOf(const std::string& jobId);

 private:
  JobExecution() = default;
  void onTaskState(Task& task, TaskState state, const Status& status);

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
  std::vector<Task*> sourceTasks_;
  std::vector<Task*> sinkTasks_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_ = 0;
  Status failure_;
  bool cancelled_ = false;
};

}  // namespace sluice
