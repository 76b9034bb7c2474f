#include "runtime/task/task.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "runtime/base/clock.h"
#include "runtime/base/fault_injection.h"
#include "runtime/base/logging.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice {

std::string_view taskStateName(TaskState state) {
  switch (state) {
    case TaskState::kCreated: return "CREATED";
    case TaskState::kRunning: return "RUNNING";
    case TaskState::kFinishing: return "FINISHING";
    case TaskState::kFinished: return "FINISHED";
    case TaskState::kFailed: return "FAILED";
    case TaskState::kCanceled: return "CANCELED";
  }
  return "UNKNOWN";
}

Status callGuarded(const std::string& where, const std::function<Status()>& body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return Status::userCodeError(where + ": " + error.what());
  } catch (...) {
    return Status::userCodeError(where + ": unknown exception");
  }
}

Task::Task(TaskParts parts) : parts_(std::move(parts)) {}

Task::~Task() {
  cancel();
  join();
}

void Task::start(StateCallback callback) {
  callback_ = std::move(callback);
  thread_ = std::thread([this] { run(); });
}

void Task::cancel() {
  cancelled_.store(true);
  mailPosted_.notify_all();
  if (parts_.gate) parts_.gate->wake();
}

void Task::join() {
  if (thread_.joinable()) thread_.join();
}

void Task::post(std::function<Status()> mail) {
  {
    std::lock_guard lock(mailMutex_);
    mail_.push_back(std::move(mail));
    hasMail_.store(true);
  }
  mailPosted_.notify_all();
  if (parts_.gate) parts_.gate->wake();
}

void Task::triggerCheckpoint(int64_t checkpointId, int64_t timestampMs) {
  post([this, checkpointId, timestampMs] { return takeCheckpoint(CheckpointBarrier{checkpointId, timestampMs}, 0); });
}

void Task::endInput() {
  post([this] {
    endInputRequested_ = true;
    return Status::OK();
  });
}

void Task::notifyCheckpointComplete(int64_t checkpointId) {
  post([this, checkpointId] { return completeCheckpoint(checkpointId); });
}

Status Task::takeCheckpoint(const CheckpointBarrier& barrier, int64_t alignmentMs) {
  if (parts_.checkpointHandler == nullptr || barrier.checkpointId <= lastCheckpoint_) {
    logger("task")->debug("task {} ignores checkpoint {} (last {})", parts_.name, barrier.checkpointId,
                          lastCheckpoint_);
    return Status::OK();
  }
  lastCheckpoint_ = barrier.checkpointId;
  TaskCheckpointState state;
  state.checkpointId = barrier.checkpointId;
  state.finished = inputEnded_;
  state.alignmentMs = alignmentMs;
  state.startDelayMs = std::max<int64_t>(0, wallClockMillis() - barrier.timestamp - alignmentMs);
  Status snapshotted = faultPoint("before-snapshot");
  if (parts_.reader && snapshotted.ok()) {
    OperatorCheckpointState source;
    source.node = parts_.readerContext.nodeId;
    source.isSource = true;
    source.sourcePosition = parts_.reader->snapshotPosition();
    state.operators.push_back(std::move(source));
  }
  for (auto& chained : parts_.operators) {
    if (!snapshotted.ok()) break;
    OperatorCheckpointState op;
    op.node = chained->context.nodeId;
    op.keyedState = chained->context.keyedStateBackend;
    snapshotted =
        callGuarded(parts_.name, [&] { return chained->op->snapshotState(barrier.checkpointId, op.snapshot); });
    state.operators.push_back(std::move(op));
  }
  // The barrier goes downstream right away (after the data before it); the
  // state is persisted while the downstream tasks align.
  if (!inputEnded_) {
    for (auto& writer : parts_.writers) SLUICE_RETURN_NOT_OK(writer->broadcast(barrier));
  }
  if (snapshotted.ok()) snapshotted = parts_.checkpointHandler->persistAndAcknowledge(*this, state);
  if (!snapshotted.ok()) {
    logger("task")->warn("task {} declines checkpoint {}: {}", parts_.name, barrier.checkpointId,
                         snapshotted.toString());
    parts_.checkpointHandler->decline(*this, barrier.checkpointId, snapshotted);
    return Status::OK();
  }
  if (state.finished && finishedCheckpoint_ < 0) finishedCheckpoint_ = barrier.checkpointId;
  return faultPoint("after-snapshot-sync");
}

Status Task::completeCheckpoint(int64_t checkpointId) {
  for (auto& chained : parts_.operators) {
    SLUICE_RETURN_NOT_OK(callGuarded(parts_.name, [&] { return chained->op->notifyCheckpointComplete(checkpointId); }));
    if (chained->context.keyedStateBackend != nullptr) {
      SLUICE_RETURN_NOT_OK(chained->context.keyedStateBackend->notifyCheckpointComplete(checkpointId));
    }
  }
  if (finishedCheckpoint_ >= 0 && checkpointId >= finishedCheckpoint_) finalCheckpointDone_ = true;
  return Status::OK();
}

Status Task::awaitFinalCheckpoint() {
  setState(TaskState::kFinishing, Status::OK());
  while (!cancelled_.load() && !finalCheckpointDone_) {
    {
      std::unique_lock lock(mailMutex_);
      mailPosted_.wait_for(lock, std::chrono::milliseconds(100), [&] { return hasMail_.load() || cancelled_.load(); });
    }
    SLUICE_RETURN_NOT_OK(drainMail());
  }
  if (!finalCheckpointDone_) return Status::cancelled("task canceled");
  return Status::OK();
}

int64_t Task::recordsWritten() const {
  int64_t total = 0;
  for (const auto& chained : parts_.operators) total += chained->op->recordsWritten();
  return total;
}

int64_t Task::backpressuredNanos() const {
  int64_t total = 0;
  for (const auto& writer : parts_.writers) total += writer->blockedNanos();
  return total;
}

std::vector<std::pair<std::string, int64_t>> Task::watermarks() const {
  std::vector<std::pair<std::string, int64_t>> out;
  if (parts_.reader) out.emplace_back(parts_.readerContext.nodeId, parts_.readerOutput->currentWatermark());
  for (const auto& chained : parts_.operators) {
    out.emplace_back(chained->context.nodeId, chained->output.currentWatermark());
  }
  return out;
}

void Task::setState(TaskState state, const Status& status) {
  state_.store(state);
  if (callback_) callback_(*this, state, status);
}

void Task::publishCounters() {
  int64_t out = 0;
  for (const auto& writer : parts_.writers) out += writer->recordsOut();
  recordsOut_.store(out, std::memory_order_relaxed);
}

Status Task::drainMail() {
  if (!hasMail_.load()) return Status::OK();
  std::deque<std::function<Status()>> mail;
  {
    std::lock_guard lock(mailMutex_);
    mail.swap(mail_);
    hasMail_.store(false);
  }
  for (auto& action : mail) SLUICE_RETURN_NOT_OK(callGuarded(parts_.name, action));
  return Status::OK();
}

Status Task::flushWritersIfDue() {
  auto now = std::chrono::steady_clock::now();
  if (now < nextFlush_) return Status::OK();
  for (auto& writer : parts_.writers) SLUICE_RETURN_NOT_OK(writer->flushIfDue(now));
  nextFlush_ = now + std::max(parts_.bufferTimeout, std::chrono::milliseconds(1));
  publishCounters();
  return Status::OK();
}

void Task::run() {
  setState(TaskState::kRunning, Status::OK());
  Status status = callGuarded(parts_.name, [&] {
    if (parts_.reader) {
      SLUICE_RETURN_NOT_OK(parts_.reader->open(parts_.readerContext));
    }
    for (auto& chained : parts_.operators) SLUICE_RETURN_NOT_OK(chained->op->open(chained->context));
    return parts_.reader ? runSource() : runOperators();
  });
  // close() runs whatever happened; its error only matters when all else went well.
  for (auto& chained : parts_.operators) {
    Status closed = callGuarded(parts_.name, [&] { return chained->op->close(); });
    if (status.ok() && !closed.ok()) status = closed;
  }
  if (parts_.reader) {
    Status closed = callGuarded(parts_.name, [&] { return parts_.reader->close(); });
    if (status.ok() && !closed.ok()) status = closed;
  }
  publishCounters();
  if (cancelled_.load() && (status.ok() || status.code() == StatusCode::kCancelled)) {
    setState(TaskState::kCanceled, Status::cancelled("task canceled"));
  } else if (status.ok()) {
    setState(TaskState::kFinished, status);
  } else {
    logger("task")->warn("task {} failed: {}", parts_.name, status.toString());
    setState(TaskState::kFailed, status);
  }
}

Status Task::runSource() {
  if (parts_.restoredFinished) return endOfInput();
  while (!cancelled_.load()) {
    SLUICE_RETURN_NOT_OK(drainMail());
    if (endInputRequested_) return endOfInput();
    SLUICE_ASSIGN_OR_RETURN(bool more, parts_.reader->pollNext(*parts_.readerOutput));
    recordsIn_.store(parts_.reader->recordsRead(), std::memory_order_relaxed);
    SLUICE_RETURN_NOT_OK(flushWritersIfDue());
    if (!more) return endOfInput();
  }
  return Status::cancelled("task canceled");
}

Status Task::runOperators() {
  SLUICE_CHECK(!parts_.operators.empty(), "task without operators");
  ChainedOperator& head = *parts_.operators[0];
  InputGate& gate = *parts_.gate;
  while (!cancelled_.load()) {
    SLUICE_RETURN_NOT_OK(drainMail());
    auto event = gate.poll(std::max(parts_.bufferTimeout, std::chrono::milliseconds(1)));
    if (event) {
      switch (event->kind) {
        case InputGate::Event::Kind::kBatch:
          recordsIn_.fetch_add(event->batch.numRows(), std::memory_order_relaxed);
          SLUICE_RETURN_NOT_OK(head.op->processBatch(event->input, event->batch, head.output));
          break;
        case InputGate::Event::Kind::kWatermark:
          if (event->timestamp != kMaxWatermark) {
            SLUICE_RETURN_NOT_OK(head.op->processWatermark(event->timestamp, head.output));
          }
          break;
        case InputGate::Event::Kind::kBarrier:
          // Aligned by the gate: every input delivered this barrier.
          SLUICE_RETURN_NOT_OK(takeCheckpoint(event->barrier, event->alignmentMs));
          break;
        case InputGate::Event::Kind::kEnd: return endOfInput();
      }
    } else if (gate.closed()) {
      return Status::cancelled("input closed");
    }
    SLUICE_RETURN_NOT_OK(flushWritersIfDue());
  }
  return Status::cancelled("task canceled");
}

Status Task::endOfInput() {
  // The final watermark lets every window fire; then each operator finishes in
  // chain order, so a downstream operator sees all its upstream's last output.
  if (parts_.reader) {
    SLUICE_RETURN_NOT_OK(parts_.readerOutput->emitWatermark(kMaxWatermark));
  } else {
    SLUICE_RETURN_NOT_OK(parts_.operators[0]->op->processWatermark(kMaxWatermark, parts_.operators[0]->output));
  }
  for (auto& chained : parts_.operators) SLUICE_RETURN_NOT_OK(chained->op->finish(chained->output));
  for (auto& writer : parts_.writers) SLUICE_RETURN_NOT_OK(writer->broadcast(EndOfStream{}));
  publishCounters();
  inputEnded_ = true;
  // With checkpoints, output commits with a checkpoint: wait for one that
  // includes this task's finished state (the job's final checkpoint).
  if (parts_.checkpointHandler != nullptr) return awaitFinalCheckpoint();
  return Status::OK();
}

}  // namespace sluice
