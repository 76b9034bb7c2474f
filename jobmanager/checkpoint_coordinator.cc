#include "jobmanager/checkpoint_coordinator.h"

#include <algorithm>
#include <filesystem>

#include "runtime/base/clock.h"
#include "runtime/base/fault_injection.h"
#include "runtime/base/logging.h"
#include "runtime/checkpoint/checkpoint_storage.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

int64_t millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

constexpr size_t kHistoryLength = 20;

}  // namespace

CheckpointCoordinator::CheckpointCoordinator(std::string jobId, std::string jobName, CheckpointSettings settings,
                                             int maxParallelism, std::vector<std::pair<std::string, int>> parallelism)
    : jobId_(std::move(jobId)),
      jobName_(std::move(jobName)),
      settings_(std::move(settings)),
      maxParallelism_(maxParallelism),
      parallelism_(std::move(parallelism)),
      registry_(settings_.jobDirectory) {}

CheckpointCoordinator::HistoryEntry& CheckpointCoordinator::history(int64_t id) {
  for (auto& entry : history_) {
    if (entry.id == id) return entry;
  }
  history_.push_back(HistoryEntry{id});
  if (history_.size() > kHistoryLength) history_.erase(history_.begin());
  return history_.back();
}

std::optional<transport::TriggerCheckpoint> CheckpointCoordinator::maybeTrigger(
    const std::vector<CoordinatedTask>& tasks, uint32_t attempt, bool force) {
  if (!enabled() || pending_ || tasks.empty()) return std::nullopt;
  if (attempt != finishedAttempt_) {
    completedFinished_.clear();
    finishedAttempt_ = attempt;
  }
  // A FINISHING task whose finished state is already durable is as good as FINISHED.
  auto done = [&](const CoordinatedTask& task) {
    return task.state == "FINISHED" || (task.state == "FINISHING" && completedFinished_.count(task.ref) > 0);
  };
  bool allRunning = std::all_of(tasks.begin(), tasks.end(), [](const CoordinatedTask& task) {
    return task.state == "RUNNING" || task.state == "FINISHING" || task.state == "FINISHED";
  });
  if (!allRunning) return std::nullopt;
  bool allFinished = std::all_of(tasks.begin(), tasks.end(), [](const CoordinatedTask& task) {
    return task.state == "FINISHING" || task.state == "FINISHED";
  });
  bool anyFinishing = std::any_of(tasks.begin(), tasks.end(), [&](const CoordinatedTask& task) { return !done(task); });
  if (allFinished && !anyFinishing) return std::nullopt;  // nothing left to checkpoint
  auto now = std::chrono::steady_clock::now();
  // The final checkpoint of a bounded job goes at once; others keep the interval and the pause.
  if (!force && !allFinished) {
    if (now - lastTrigger_ < settings_.interval || now - lastEnd_ < settings_.minPause) return std::nullopt;
  }
  Pending pending;
  pending.id = nextId_++;
  pending.timestampMs = wallClockMillis();
  pending.started = now;
  pending.directory = settings_.jobDirectory + "/chk-" + std::to_string(pending.id);
  transport::TriggerCheckpoint trigger;
  trigger.jobId = jobId_;
  trigger.attempt = attempt;
  trigger.checkpointId = pending.id;
  trigger.timestampMs = pending.timestampMs;
  trigger.directory = pending.directory;
  for (const CoordinatedTask& task : tasks) {
    if (done(task)) continue;  // contributes its last acknowledged state
    pending.awaiting.insert(task.ref);
    if (task.isSource || task.state == "FINISHING") trigger.tasks.push_back(task.ref);
  }
  lastTrigger_ = now;
  HistoryEntry& entry = history(pending.id);
  entry.status = "IN_PROGRESS";
  entry.triggeredAtMs = pending.timestampMs;
  pending_ = std::move(pending);
  return trigger;
}

std::optional<transport::TriggerCheckpoint> CheckpointCoordinator::triggerForEndedTask(const transport::TaskRef& task,
                                                                                       uint32_t attempt) {
  if (!pending_ || pending_->awaiting.count(task) == 0) return std::nullopt;
  return transport::TriggerCheckpoint{jobId_, attempt, pending_->id, pending_->timestampMs, pending_->directory,
                                      {task}};
}

Result<std::optional<int64_t>> CheckpointCoordinator::acknowledge(const transport::AcknowledgeCheckpoint& ack) {
  if (!pending_ || ack.checkpointId != pending_->id || pending_->awaiting.count(ack.task) == 0) {
    return std::optional<int64_t>();  // late or duplicate
  }
  SLUICE_ASSIGN_OR_RETURN(TaskStateHandle handle, parseTaskStateHandle(ack.state, "checkpoint acknowledgement"));
  pending_->awaiting.erase(ack.task);
  pending_->sizeBytes += ack.sizeBytes;
  pending_->incrementalSizeBytes += ack.incrementalSizeBytes;
  pending_->alignmentMs = std::max(pending_->alignmentMs, ack.alignmentMs);
  pending_->syncMs = std::max(pending_->syncMs, ack.syncMs);
  pending_->asyncMs = std::max(pending_->asyncMs, ack.asyncMs);
  pending_->startDelayMs = std::max(pending_->startDelayMs, ack.startDelayMs);
  if (handle.finished) lastHandles_[ack.task] = handle;
  pending_->acknowledged[ack.task] = std::move(handle);
  if (!pending_->awaiting.empty()) return std::optional<int64_t>();

  // Every task acknowledged: the checkpoint counts once its metadata is durable.
  CheckpointMetadata metadata;
  metadata.jobId = jobId_;
  metadata.jobName = jobName_;
  metadata.checkpointId = pending_->id;
  metadata.timestampMs = pending_->timestampMs;
  metadata.maxParallelism = maxParallelism_;
  metadata.parallelism = parallelism_;
  metadata.root = "..";
  for (const auto& [ref, task] : pending_->acknowledged) metadata.tasks.push_back(task);
  for (const auto& [ref, task] : lastHandles_) {
    if (pending_->acknowledged.count(ref) == 0) metadata.tasks.push_back(task);
  }
  const int64_t id = pending_->id;
  auto fail = [&](const Status& status) -> Result<std::optional<int64_t>> {
    abort(status.message());
    return status;
  };
  Status status = faultPoint("before-metadata-write");
  if (!status.ok()) return fail(status);
  std::error_code error;
  fs::create_directories(pending_->directory, error);
  status = writeFileAtomically(pending_->directory + "/" + kMetadataFileName, toJson(metadata));
  if (!status.ok()) return fail(status);
  status = faultPoint("after-metadata-write");
  if (!status.ok()) return fail(status);
  status = registry_.registerCheckpoint(id, metadata.files());
  if (!status.ok()) return fail(status);

  for (const auto& [ref, task] : pending_->acknowledged) {
    if (task.finished) completedFinished_.insert(ref);
  }
  lastCompletedWasFinal_ = std::all_of(metadata.tasks.begin(), metadata.tasks.end(),
                                       [](const TaskStateHandle& task) { return task.finished; });
  HistoryEntry& entry = history(id);
  entry.status = "COMPLETED";
  entry.durationMs = millisSince(pending_->started);
  entry.sizeBytes = pending_->sizeBytes;
  entry.incrementalSizeBytes = pending_->incrementalSizeBytes;
  entry.alignmentMs = pending_->alignmentMs;
  entry.syncMs = pending_->syncMs;
  entry.asyncMs = pending_->asyncMs;
  entry.startDelayMs = pending_->startDelayMs;
  completed_.push_back(Completed{id, pending_->directory + "/" + kMetadataFileName, false});
  ++completedCount_;
  logger("checkpoint")
      ->info("job {}: checkpoint {} completed in {} ms ({} bytes, {} new)", jobId_, id, entry.durationMs,
             entry.sizeBytes, entry.incrementalSizeBytes);
  pending_.reset();
  lastEnd_ = std::chrono::steady_clock::now();
  prune();
  return std::optional<int64_t>(id);
}

void CheckpointCoordinator::decline(const transport::DeclineCheckpoint& decline) {
  if (!pending_ || decline.checkpointId != pending_->id) return;
  abort("task " + decline.task.node + "[" + std::to_string(decline.task.subtask) + "] declined: " + decline.reason);
}

void CheckpointCoordinator::checkTimeout() {
  if (pending_ && std::chrono::steady_clock::now() - pending_->started > settings_.timeout) {
    abort("timed out after " + std::to_string(settings_.timeout.count()) + " ms");
  }
}

void CheckpointCoordinator::abortPending(const std::string& reason) {
  if (pending_) abort(reason);
}

void CheckpointCoordinator::abort(const std::string& reason) {
  const int64_t id = pending_->id;
  logger("checkpoint")->warn("job {}: checkpoint {} aborted: {}", jobId_, id, reason);
  HistoryEntry& entry = history(id);
  entry.status = "FAILED";
  entry.durationMs = millisSince(pending_->started);
  entry.failure = reason;
  ++failedCount_;
  std::error_code ignored;
  fs::remove_all(pending_->directory, ignored);  // private files only; shared ones may be in use
  pending_.reset();
  lastEnd_ = std::chrono::steady_clock::now();
}

void CheckpointCoordinator::markNotified(int64_t checkpointId) {
  for (auto& checkpoint : completed_) {
    if (checkpoint.id == checkpointId) checkpoint.notified = true;
  }
}

void CheckpointCoordinator::prune() {
  while (static_cast<int>(completed_.size()) > settings_.retained) {
    const Completed oldest = completed_.front();
    completed_.erase(completed_.begin());
    auto released = registry_.releaseCheckpoint(oldest.id);
    if (!released.ok()) {
      logger("checkpoint")
          ->warn("job {}: releasing checkpoint {}: {}", jobId_, oldest.id, released.status().toString());
    }
    std::error_code ignored;
    fs::remove_all(fs::path(oldest.metadataPath).parent_path(), ignored);
  }
}

Result<std::optional<std::string>> CheckpointCoordinator::restorePath() {
  while (!completed_.empty()) {
    const Completed latest = completed_.back();
    Status status = loadCheckpoint(latest.metadataPath).status();
    if (status.ok()) {
      auto loaded = loadCheckpoint(latest.metadataPath);
      status = verifyCheckpoint(*loaded);
    }
    if (status.ok()) return std::optional<std::string>(latest.metadataPath);
    if (latest.notified) {
      return Status::corruption("checkpoint " + std::to_string(latest.id) + " of job " + jobId_ +
                                " is damaged and its output was already committed; restoring an older one would "
                                "duplicate output: " +
                                status.message());
    }
    logger("checkpoint")
        ->warn("job {}: checkpoint {} is damaged and nothing committed it; falling back to the previous one: {}",
               jobId_, latest.id, status.message());
    completed_.pop_back();
    ignoreError(registry_.releaseCheckpoint(latest.id).status());
  }
  return std::optional<std::string>();
}

void CheckpointCoordinator::markRestored(int64_t checkpointId) {
  restoredFrom_ = checkpointId;
  ++restores_;
}

Result<std::string> CheckpointCoordinator::writeSavepoint(int64_t checkpointId, const std::string& directory) {
  auto found = std::find_if(completed_.begin(), completed_.end(),
                            [&](const Completed& checkpoint) { return checkpoint.id == checkpointId; });
  if (found == completed_.end()) return Status::notFound("checkpoint " + std::to_string(checkpointId) + " is gone");
  SLUICE_ASSIGN_OR_RETURN(LoadedCheckpoint loaded, loadCheckpoint(found->metadataPath));
  const fs::path target =
      fs::absolute(directory) / ("savepoint-" + jobId_.substr(0, 6) + "-" + std::to_string(checkpointId));
  std::error_code error;
  fs::create_directories(target, error);
  if (error) return Status::ioError("cannot create savepoint directory '" + target.string() + "': " + error.message());
  // Self-contained: every file the checkpoint needs, at the same relative path.
  for (const std::string& file : loaded.metadata.files()) {
    const fs::path source = fs::path(loaded.root) / file;
    const fs::path destination = target / file;
    fs::create_directories(destination.parent_path(), error);
    fs::create_hard_link(source, destination, error);
    if (error) {
      error.clear();
      fs::copy_file(source, destination, fs::copy_options::overwrite_existing, error);
    }
    if (error) {
      return Status::ioError("cannot copy '" + source.string() + "' into savepoint: " + error.message());
    }
  }
  CheckpointMetadata metadata = loaded.metadata;
  metadata.savepoint = true;
  metadata.root = ".";
  SLUICE_RETURN_NOT_OK(writeFileAtomically((target / kMetadataFileName).string(), toJson(metadata)));
  logger("checkpoint")->info("job {}: savepoint written to {}", jobId_, target.string());
  return target.string();
}

void CheckpointCoordinator::jobEnded(bool canceledOrFailed) {
  abortPending("the job ended");
  if (!(canceledOrFailed && settings_.deleteOnCancel)) return;
  for (const Completed& checkpoint : completed_) {
    std::error_code ignored;
    fs::remove_all(fs::path(checkpoint.metadataPath).parent_path(), ignored);
  }
  std::error_code ignored;
  fs::remove_all(settings_.jobDirectory, ignored);
  completed_.clear();
}

nlohmann::json CheckpointCoordinator::statusJson() const {
  nlohmann::json history = nlohmann::json::array();
  for (const HistoryEntry& entry : history_) {
    nlohmann::json item{{"id", entry.id},
                        {"status", entry.status},
                        {"triggered_at", entry.triggeredAtMs},
                        {"duration_ms", entry.durationMs},
                        {"size_bytes", entry.sizeBytes},
                        {"incremental_size_bytes", entry.incrementalSizeBytes},
                        {"alignment_ms", entry.alignmentMs},
                        {"sync_ms", entry.syncMs},
                        {"async_ms", entry.asyncMs},
                        {"start_delay_ms", entry.startDelayMs}};
    if (!entry.failure.empty()) item["failure"] = entry.failure;
    history.push_back(std::move(item));
  }
  nlohmann::json out{
      {"enabled", enabled()},
      {"completed", completedCount_},
      {"failed", failedCount_},
      {"in_progress", pending_ ? nlohmann::json(pending_->id) : nlohmann::json(nullptr)},
      {"latest", completed_.empty() ? nlohmann::json(nullptr) : nlohmann::json(completed_.back().id)},
      {"latest_path", completed_.empty() ? nlohmann::json(nullptr) : nlohmann::json(completed_.back().metadataPath)},
      {"retained", nlohmann::json::array()},
      {"restores", restores_},
      {"history", history}};
  for (const Completed& checkpoint : completed_) out["retained"].push_back(checkpoint.id);
  return out;
}

}  // namespace sluice
