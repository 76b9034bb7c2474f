// JobExecution: the tasks of one job attempt that run in this process, wired
// to each other by local channels.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/graph/job_graph.h"
#include "runtime/task/task.h"

namespace sluice {

struct ExecutionOptions {
  std::string jobId;
  int attempt = 0;
  std::chrono::milliseconds bufferTimeout{5};
  size_t channelCapacity = 8;   // batches in flight per channel (the receiver's credit)
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

 private:
  JobExecution() = default;
  void onTaskState(Task& task, TaskState state, const Status& status);

  ExecutionOptions options_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<Task*> sourceTasks_;
  std::vector<Task*> sinkTasks_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_ = 0;
  Status failure_;
  bool cancelled_ = false;
};

}  // namespace sluice
