#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "runtime/base/logging.h"
#include "worker/job_preparation.h"
#include "worker/plugin_store.h"

namespace sluice {
namespace {

std::string generateWorkerId() {
  std::mt19937_64 random(std::random_device{}());
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "worker-%08llx", static_cast<unsigned long long>(random() & 0xffffffffULL));
  return buffer;
}

}  // namespace

Result<std::unique_ptr<Worker>> Worker::start(WorkerOptions options) {
  if (options.slots <= 0) return Status::invalidArgument("--slots must be positive");
  if (options.workerId.empty()) options.workerId = generateWorkerId();
  std::unique_ptr<Worker> worker(new Worker());
  if (options.dataDirectory.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-worker-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return Status::ioError("cannot create a temporary data directory");
    options.dataDirectory = pattern;
    worker->ownsDataDirectory_ = true;
  } else {
    std::error_code error;
    std::filesystem::create_directories(options.dataDirectory, error);
    if (error) {
      return Status::ioError("cannot create data directory '" + options.dataDirectory + "': " + error.message());
    }
  }
  worker->options_ = options;
  SLUICE_ASSIGN_OR_RETURN(worker->dataPlane_,
                          transport::DataPlane::start(options.bindAddress, options.port, options.advertiseHost));
  Worker* raw = worker.get();
  worker->commandThread_ = std::thread([raw] { raw->commandLoop(); });
  auto tick = [raw](transport::ControlConnection& connection) {
    auto now = std::chrono::steady_clock::now();
    if (!raw->registered_.load()) {
      if (now - raw->lastRegisterAttempt_ >= std::chrono::milliseconds(500)) {
        raw->lastRegisterAttempt_ = now;
        connection.send(transport::ControlMessage{
            0, transport::RegisterWorker{raw->options_.workerId, static_cast<uint32_t>(raw->options_.slots),
                                         raw->dataPlane_->endpoint()}});
      }
      return;
    }
    connection.send(transport::ControlMessage{0, transport::Heartbeat{raw->options_.workerId}});
  };
  SLUICE_ASSIGN_OR_RETURN(
      worker->control_,
      transport::ControlConnection::connect(
          options.jobManager, [raw](transport::ControlMessage message) { raw->onMessage(std::move(message)); }, tick,
          options.heartbeatInterval));
  return worker;
}

Worker::~Worker() { stop(); }

void Worker::onMessage(transport::ControlMessage message) {
  {
    // The answer to a plugin fetch of the command thread.
    std::lock_guard lock(mutex_);
    auto fetch = fetches_.find(message.requestId);
    if (message.requestId != 0 && fetch != fetches_.end()) {
      fetch->second = std::move(message);
      changed_.notify_all();
      return;
    }
  }
  if (auto* reply = std::get_if<transport::RegisterReply>(&message.body)) {
    std::lock_guard lock(mutex_);
    registrationAnswered_ = true;
    if (reply->accepted) {
      registered_.store(true);
    } else if (reply->heartbeatIntervalMs == 0 && registered_.load()) {
      // The job manager no longer knows us (it declared us lost or restarted): register again.
      registered_.store(false);
      return;
    } else {
      refusal_ = Status::invalidArgument("job manager refused worker " + options_.workerId + ": " + reply->error);
      stopping_ = true;
    }
    changed_.notify_all();
    return;
  }
  if (auto* reply = std::get_if<transport::Reply>(&message.body)) {
    // A bare error reply from the job manager: e.g. a protocol version mismatch.
    if (!reply->ok) {
      std::lock_guard lock(mutex_);
      registrationAnswered_ = true;
      refusal_ = Status::invalidArgument("job manager refused worker " + options_.workerId + ": " + reply->error);
      stopping_ = true;
      changed_.notify_all();
    }
    return;
  }
  std::lock_guard lock(mutex_);
  commands_.push_back(std::move(message));
  changed_.notify_all();
}

Status Worker::waitForRegistration(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return registrationAnswered_; })) {
    return Status::unavailable("worker " + options_.workerId + " could not register with the job manager at " +
                               options_.jobManager + " within " + std::to_string(timeout.count()) + " ms");
  }
  return refusal_;
}

Status Worker::refusal() const {
  std::lock_guard lock(mutex_);
  return refusal_;
}

void Worker::commandLoop() {
  while (true) {
    transport::ControlMessage message;
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, options_.heartbeatInterval, [&] { return stopping_ || !commands_.empty(); });
      if (stopping_) break;
      if (commands_.empty()) {
        lock.unlock();
        reportMetrics();
        continue;
      }
      message = std::move(commands_.front());
      commands_.pop_front();
    }
    handle(message);
    if (std::chrono::steady_clock::now() - lastMetrics_ >= options_.heartbeatInterval) reportMetrics();
  }
  for (auto& [id, job] : jobs_) {
    job.execution->cancel();
    dataPlane_->closeJob(JobExecution::jobKeyOf(job.jobId), job.attempt);
  }
  for (auto& [id, job] : jobs_) ignoreError(job.execution->wait());
  for (auto& [id, job] : jobs_) {
    job.execution.reset();
    removeStateDirectory(job.jobId, job.attempt);
  }
  jobs_.clear();
}

void Worker::handle(transport::ControlMessage& message) {
  if (auto* deployMessage = std::get_if<transport::DeployTasks>(&message.body)) {
    deploy(*deployMessage);
  } else if (auto* cancelMessage = std::get_if<transport::CancelJob>(&message.body)) {
    cancel(cancelMessage->jobId, cancelMessage->attempt);
  } else if (auto* trigger = std::get_if<transport::TriggerCheckpoint>(&message.body)) {
    auto found = jobs_.find(trigger->jobId);
    logger("worker")->debug("checkpoint {} of job {} attempt {}: {} tasks to trigger", trigger->checkpointId,
                            trigger->jobId, trigger->attempt, trigger->tasks.size());
    if (found == jobs_.end() || found->second.attempt != trigger->attempt) return;
    std::vector<std::pair<std::string, int>> tasks;
    for (const auto& task : trigger->tasks) tasks.emplace_back(task.node, static_cast<int>(task.subtask));
    found->second.execution->triggerCheckpoint(trigger->checkpointId, trigger->timestampMs, trigger->directory, tasks);
  } else if (auto* drain = std::get_if<transport::DrainSources>(&message.body)) {
    auto found = jobs_.find(drain->jobId);
    if (found == jobs_.end() || found->second.attempt != drain->attempt) return;
    logger("worker")->info("job {} attempt {}: draining the sources", drain->jobId, drain->attempt);
    found->second.execution->drainSources();
  } else if (auto* complete = std::get_if<transport::CheckpointComplete>(&message.body)) {
    auto found = jobs_.find(complete->jobId);
    if (found == jobs_.end() || found->second.attempt != complete->attempt) return;
    found->second.execution->notifyCheckpointComplete(complete->checkpointId);
  }
}

void Worker::reportTask(const std::string& jobId, uint32_t attempt, const std::string& node, int subtask,
                        TaskState state, const Status& status, int64_t recordsIn, int64_t recordsOut) {
  transport::TaskStateUpdate update;
  update.jobId = jobId;
  update.attempt = attempt;
  update.node = node;
  update.subtask = static_cast<uint32_t>(subtask);
  update.state = std::string(taskStateName(state));
  update.error = status.ok() ? "" : status.message();
  update.recordsIn = recordsIn;
  update.recordsOut = recordsOut;
  update.workerId = options_.workerId;
  control_->send(transport::ControlMessage{0, std::move(update)});
}

void Worker::deploy(const transport::DeployTasks& deployMessage) {
  auto log = logger("worker");
  cancel(deployMessage.jobId, deployMessage.attempt - 1);  // a previous attempt, if any, is over
  auto failAll = [&](const Status& status) {
    for (const auto& placement : deployMessage.placements) {
      if (placement.workerId != options_.workerId) continue;
      reportTask(deployMessage.jobId, deployMessage.attempt, placement.node, static_cast<int>(placement.subtask),
                 TaskState::kFailed, status, 0, 0);
    }
  };
  std::map<std::string, std::string> pluginFiles;
  for (const auto& [name, hash] : deployMessage.job.pluginHashes) {
    auto file = pluginFile(hash);
    if (!file.ok()) {
      log->error("cannot deploy job {}: plugin '{}': {}", deployMessage.jobId, name, file.status().toString());
      failAll(file.status().withContext("plugin '" + name + "'"));
      return;
    }
    pluginFiles[name] = *file;
  }
  auto prepared = prepareJob(deployMessage.job, Configuration(), &pluginFiles);
  if (!prepared.ok()) {
    log->error("cannot deploy job {}: {}", deployMessage.jobId, prepared.status().toString());
    failAll(prepared.status());
    return;
  }
  ExecutionOptions options = executionOptionsFor(*prepared, deployMessage.jobId, deployMessage.attempt);
  options.checkpointing = deployMessage.checkpointing;
  if (!deployMessage.restoreMetadata.empty()) {
    auto restore = loadCheckpoint(deployMessage.restoreMetadata);
    if (!restore.ok()) {
      failAll(restore.status());
      return;
    }
    options.restore = std::make_shared<const LoadedCheckpoint>(std::move(restore).value());
  }
  options.stateDirectory =
      options_.dataDirectory + "/" + deployMessage.jobId + "-" + std::to_string(deployMessage.attempt);
  options.localWorkerId = options_.workerId;
  options.dataPlane = dataPlane_.get();
  for (const auto& placement : deployMessage.placements) {
    options.placements[{placement.node, static_cast<int>(placement.subtask)}] =
        TaskPlacement{placement.workerId, placement.dataEndpoint};
  }
  auto execution = JobExecution::create(prepared->graph, options);
  if (!execution.ok()) {
    failAll(execution.status());
    return;
  }
  std::string jobId = deployMessage.jobId;
  uint32_t attempt = deployMessage.attempt;
  (*execution)
      ->setTaskListener([this, jobId, attempt](const std::string& node, int subtask, TaskState state,
                                               const Status& status, int64_t recordsIn, int64_t recordsOut) {
        reportTask(jobId, attempt, node, subtask, state, status, recordsIn, recordsOut);
      });
  (*execution)->setCheckpointListener([this, jobId, attempt](const CheckpointReport& report) {
    transport::TaskRef task{report.node, static_cast<uint32_t>(report.subtask)};
    if (!report.declined.ok()) {
      control_->send(transport::ControlMessage{
          0, transport::DeclineCheckpoint{jobId, attempt, report.checkpointId, task, report.declined.message()}});
      return;
    }
    control_->send(transport::ControlMessage{
        0, transport::AcknowledgeCheckpoint{jobId, attempt, report.checkpointId, task, toJson(report.state),
                                            report.state.finished, report.alignmentMs, report.sizeBytes,
                                            report.incrementalSizeBytes, report.syncMs, report.asyncMs,
                                            report.startDelayMs}});
  });
  RunningJob& job = jobs_[jobId];
  job.jobId = jobId;
  job.attempt = attempt;
  job.execution = std::move(execution).value();
  log->info("deployed job {} attempt {}", jobId, attempt);
  job.execution->start();
}

void Worker::cancel(const std::string& jobId, uint32_t attempt) {
  auto found = jobs_.find(jobId);
  if (found == jobs_.end() || found->second.attempt > attempt) return;
  found->second.execution->cancel();
  dataPlane_->closeJob(JobExecution::jobKeyOf(jobId), found->second.attempt);
  ignoreError(found->second.execution->wait());
  jobs_.erase(found);
  removeStateDirectory(jobId, attempt);
}

void Worker::reportMetrics() {
  lastMetrics_ = std::chrono::steady_clock::now();
  if (!registered_.load()) return;
  for (auto& [id, job] : jobs_) {
    for (const auto& metrics : job.execution->metrics()) {
      if (metrics.state != TaskState::kRunning && metrics.state != TaskState::kFinishing) continue;
      transport::TaskStateUpdate update;
      update.jobId = job.jobId;
      update.attempt = job.attempt;
      update.node = metrics.node;
      update.subtask = static_cast<uint32_t>(metrics.subtask);
      update.state = std::string(taskStateName(metrics.state));
      update.recordsIn = metrics.recordsIn;
      update.recordsOut = metrics.recordsOut;
      update.workerId = options_.workerId;
      update.metricsOnly = true;
      auto& last = job.lastBlocked[{metrics.node, metrics.subtask}];
      auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(lastMetrics_ - last.second).count();
      if (last.second.time_since_epoch().count() != 0 && elapsed > 0) {
        update.backpressure = std::clamp(
            static_cast<double>(metrics.backpressuredNanos - last.first) / static_cast<double>(elapsed), 0.0, 1.0);
      }
      last = {metrics.backpressuredNanos, lastMetrics_};
      for (const auto& [node, watermark] : metrics.watermarks) {
        if (watermark != kMinWatermark) update.watermarks[node] = std::to_string(watermark);
      }
      control_->send(transport::ControlMessage{0, std::move(update)});
    }
  }
}

Result<std::string> Worker::pluginFile(const std::string& hash) {
  if (!isPluginHash(hash)) return Status::invalidArgument("'" + hash + "' is not a plugin content hash");
  const std::string directory = options_.dataDirectory + "/plugins";
  const std::string path = pluginPath(directory, hash);
  std::error_code error;
  if (std::filesystem::exists(path, error)) return path;
  std::filesystem::create_directories(directory, error);
  const uint64_t requestId = (uint64_t{1} << 62) + nextFetchId_++;
  std::optional<transport::ControlMessage> answer;
  {
    std::unique_lock lock(mutex_);
    fetches_[requestId];
  }
  control_->send(transport::ControlMessage{requestId, transport::FetchPlugin{hash}});
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return stopping_ || fetches_[requestId].has_value(); });
    answer = std::move(fetches_[requestId]);
    fetches_.erase(requestId);
  }
  if (!answer) return Status::unavailable("no answer from the job manager to the fetch of plugin " + hash);
  if (auto* reply = std::get_if<transport::Reply>(&answer->body)) {
    return Status::notFound("the job manager has no plugin " + hash + ": " + reply->error);
  }
  auto* content = std::get_if<transport::PluginContent>(&answer->body);
  if (content == nullptr) return Status::corruption("unexpected answer to the fetch of plugin " + hash);
  if (pluginContentHash(content->plugin.content) != hash) {
    return Status::corruption("plugin " + hash + " arrived damaged (its content hash differs)");
  }
  SLUICE_ASSIGN_OR_RETURN(std::string stored, storePlugin(directory, content->plugin.content));
  (void)stored;
  logger("worker")->info("fetched plugin {} ({} bytes)", hash, content->plugin.content.size());
  return path;
}

void Worker::removeStateDirectory(const std::string& jobId, uint32_t attempt) {
  std::error_code ignored;
  std::filesystem::remove_all(options_.dataDirectory + "/" + jobId + "-" + std::to_string(attempt), ignored);
}

void Worker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !commandThread_.joinable()) return;
    stopping_ = true;
    changed_.notify_all();
  }
  if (commandThread_.joinable()) commandThread_.join();
  if (control_) {
    if (registered_.load()) control_->send(transport::ControlMessage{0, transport::Disconnect{options_.workerId}});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the goodbye leave the socket
    control_->stop();
  }
  if (dataPlane_) dataPlane_->stop();
  if (ownsDataDirectory_) {
    std::error_code ignored;
    std::filesystem::remove_all(options_.dataDirectory, ignored);
  }
}

void Worker::waitUntilStopped() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return stopping_; });
}

}  // namespace sluice
