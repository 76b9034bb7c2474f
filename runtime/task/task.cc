#include "runtime/task/task.h"

#include <exception>

#include "runtime/base/logging.h"

namespace sluice {

std::string_view taskStateName(TaskState state) {
  switch (state) {
    case TaskState::kCreated: return "CREATED";
    case TaskState::kRunning: return "RUNNING";
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
  if (parts_.gate) parts_.gate->wake();
}

int64_t Task::recordsWritten() const {
  int64_t total = 0;
  for (const auto& chained : parts_.operators) total += chained->op->recordsWritten();
  return total;
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
  while (!cancelled_.load()) {
    SLUICE_RETURN_NOT_OK(drainMail());
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
          // Checkpoint barriers are aligned and handled by the checkpointing runtime.
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
  return Status::OK();
}

}  // namespace sluice
