// Task: one parallel subtask of a chain of fused operators, run by a mailbox
// loop on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/task/checkpoint_handler.h"
#include "runtime/task/local_channel.h"
#include "runtime/task/operator.h"
#include "runtime/task/output_router.h"
#include "runtime/task/record_writer.h"
#include "runtime/task/source_reader.h"

namespace sluice {

/// kFinishing: the input has ended and every operator finished; the task waits
/// for the final checkpoint that commits its output (checkpointing only).
enum class TaskState { kCreated, kRunning, kFinishing, kFinished, kFailed, kCanceled };
std::string_view taskStateName(TaskState state);

/// One operator of a task's chain with its output routing.
struct ChainedOperator {
  std::unique_ptr<Operator> op;
  OutputRouter output;
  OperatorContext context;
};

/// What a task is made of. Operators are in chain order: every operator comes
/// after the operator that feeds it, and `operators[0]` is the head that reads
/// the input gate when there is no source reader.
struct TaskParts {
  std::string name;  // "node[subtask]" of the head, for logs
  std::unique_ptr<SourceReader> reader;
  OperatorContext readerContext;
  std::unique_ptr<OutputRouter> readerOutput;
  std::unique_ptr<InputGate> gate;
  std::vector<std::unique_ptr<ChainedOperator>> operators;
  std::vector<std::unique_ptr<RecordWriter>> writers;
  std::chrono::milliseconds bufferTimeout{5};
  /// Set when the job checkpoints: snapshots go here, and a task whose input
  /// ended waits (FINISHING) until a checkpoint taken after that completes.
  CheckpointHandler* checkpointHandler = nullptr;
  /// Restored from a checkpoint in which this task had already finished: a
  /// source reads nothing more.
  bool restoredFinished = false;
};

/// Runs one subtask. Everything the operators see happens on the task thread:
/// input batches, watermarks, end of input and mail (posted actions such as
/// checkpoint triggers), so operator state needs no locks.
///
/// Lifecycle: constructed → start() → runs until its input ends (FINISHED),
/// an operator fails (FAILED) or cancel() (CANCELED) → join(). The state
/// callback fires from the task thread on every change.
class Task {
 public:
  using StateCallback = std::function<void(Task& task, TaskState state, const Status& status)>;

  explicit Task(TaskParts parts);
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  const std::string& name() const { return parts_.name; }
  InputGate* gate() { return parts_.gate.get(); }
  TaskState state() const { return state_.load(); }

  void start(StateCallback callback);
  /// Asks the task to stop; safe from any thread. Blocked pushes of this task
  /// are released by closing the downstream gates (the executor does that).
  void cancel();
  void join();

  /// Runs `mail` on the task thread between elements.
  void post(std::function<Status()> mail);

  /// Starts checkpoint `checkpointId` at this task (sources, and tasks whose
  /// input has ended; the others receive barriers). Safe from any thread.
  void triggerCheckpoint(int64_t checkpointId, int64_t timestampMs);
  /// Ends a source task's input as if its reader were exhausted (stop
  /// --drain): the final watermark goes out and the operators finish. The
  /// reader's position stays where it stopped. Any thread; no-op otherwise.
  void endInput();
  /// Checkpoint `checkpointId` completed: operators may commit. Any thread.
  void notifyCheckpointComplete(int64_t checkpointId);

  int64_t recordsIn() const { return recordsIn_.load(std::memory_order_relaxed); }
  int64_t recordsOut() const { return recordsOut_.load(std::memory_order_relaxed); }
  /// Records written to external systems by sinks in this task.
  int64_t recordsWritten() const;
  /// Time spent waiting to hand output downstream (backpressure); any thread.
  int64_t backpressuredNanos() const;
  /// The last watermark each node of the chain emitted (source first); any thread.
  std::vector<std::pair<std::string, int64_t>> watermarks() const;

 private:
  void run();
  Status runSource();
  Status runOperators();
  Status endOfInput();
  Status drainMail();
  Status flushWritersIfDue();
  /// Snapshots the chain for `barrier` and forwards the barrier downstream.
  Status takeCheckpoint(const CheckpointBarrier& barrier, int64_t alignmentMs);
  Status completeCheckpoint(int64_t checkpointId);
  Status awaitFinalCheckpoint();
  void publishCounters();
  void setState(TaskState state, const Status& status);

  TaskParts parts_;
  StateCallback callback_;
  std::thread thread_;
  std::atomic<TaskState> state_{TaskState::kCreated};
  std::atomic<bool> cancelled_{false};
  std::mutex mailMutex_;
  std::deque<std::function<Status()>> mail_;
  std::atomic<bool> hasMail_{false};
  std::condition_variable mailPosted_;
  int64_t lastCheckpoint_ = -1;      // task thread only
  bool inputEnded_ = false;          // task thread only
  int64_t finishedCheckpoint_ = -1;  // first checkpoint taken after the input ended
  bool finalCheckpointDone_ = false;
  bool endInputRequested_ = false;  // task thread only (set by mail)
  std::atomic<int64_t> recordsIn_{0};
  std::atomic<int64_t> recordsOut_{0};
  std::chrono::steady_clock::time_point nextFlush_;
};

/// Runs `body`, turning a C++ exception from user code into a UserCodeError.
Status callGuarded(const std::string& where, const std::function<Status()>& body);

}  // namespace sluice
