#include "jobmanager/job_manager.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "runtime/base/clock.h"
#include "runtime/base/logging.h"
#include "runtime/checkpoint/checkpoint_storage.h"
#include "worker/plugin_store.h"

namespace sluice {
namespace {

std::string newJobId() {
  static std::mt19937_64 generator(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) id += kHex[generator() & 15];
  return id;
}

bool isTerminal(const std::string& state) { return state == "FINISHED" || state == "FAILED" || state == "CANCELED"; }

}  // namespace

Result<std::unique_ptr<JobManager>> JobManager::start(JobManagerOptions options) {
  std::unique_ptr<JobManager> manager(new JobManager());
  manager->options_ = std::move(options);
  manager->heartbeatTimeout_ =
      manager->options_.clusterConfig.getDuration("heartbeat.timeout").value_or(std::chrono::milliseconds(3000));
  if (manager->options_.dataDirectory.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-jobmanager-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return Status::ioError("cannot create a temporary data directory");
    manager->options_.dataDirectory = pattern;
    manager->ownsDataDirectory_ = true;
  }
  manager->pluginDirectory_ = manager->options_.dataDirectory + "/plugins";
  std::error_code error;
  std::filesystem::create_directories(manager->pluginDirectory_, error);
  if (error) {
    return Status::ioError("cannot create plugin directory '" + manager->pluginDirectory_ + "': " + error.message());
  }
  JobManager* raw = manager.get();
  SLUICE_ASSIGN_OR_RETURN(manager->server_, transport::ControlServer::start(
                                                manager->options_.bindAddress, manager->options_.port,
                                                [raw](const std::string& peer, transport::ControlMessage message) {
                                                  raw->onMessage(peer, std::move(message));
                                                },
                                                [raw] { raw->tick(); }, std::chrono::milliseconds(50)));
  logger("jobmanager")->info("job manager listening on {}:{}", manager->options_.bindAddress, manager->port());
  return manager;
}

JobManager::~JobManager() { stop(); }

void JobManager::stop() {
  if (server_) server_->stop();
  if (ownsDataDirectory_) {
    std::error_code ignored;
    std::filesystem::remove_all(options_.dataDirectory, ignored);
    ownsDataDirectory_ = false;
  }
}

void JobManager::reply(const std::string& peer, uint64_t requestId, bool ok, const std::string& error,
                       const std::string& payload) {
  server_->send(peer, transport::ControlMessage{requestId, transport::Reply{ok, error, payload}});
}

void JobManager::onMessage(const std::string& peer, transport::ControlMessage message) {
  auto log = logger("jobmanager");
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, transport::RegisterWorker>) {
          WorkerRecord& worker = workers_[body.workerId];
          bool fresh = worker.id.empty();
          worker.id = body.workerId;
          worker.peer = peer;
          worker.dataEndpoint = body.dataEndpoint;
          worker.slots = static_cast<int>(body.slots);
          worker.lastHeartbeat = std::chrono::steady_clock::now();
          if (fresh)
            log->info("worker {} registered with {} slots at {}", body.workerId, body.slots, body.dataEndpoint);
          server_->send(peer, transport::ControlMessage{message.requestId, transport::RegisterReply{true, "", 1000}});
        } else if constexpr (std::is_same_v<T, transport::Heartbeat>) {
          auto found = workers_.find(body.workerId);
          if (found != workers_.end()) {
            found->second.lastHeartbeat = std::chrono::steady_clock::now();
          } else {
            // Declared lost earlier (or the job manager restarted): ask it to register again.
            server_->send(peer, transport::ControlMessage{0, transport::RegisterReply{false,
                                                                                      "unknown worker; "
                                                                                      "restart it to register again",
                                                                                      0}});
          }
        } else if constexpr (std::is_same_v<T, transport::Disconnect>) {
          workerLost(body.workerId, "worker " + body.workerId + " shut down", /*expected=*/true);
        } else if constexpr (std::is_same_v<T, transport::TaskStateUpdate>) {
          onTaskState(body);
        } else if constexpr (std::is_same_v<T, transport::AcknowledgeCheckpoint>) {
          onAcknowledge(body);
        } else if constexpr (std::is_same_v<T, transport::DeclineCheckpoint>) {
          onDecline(body);
        } else if constexpr (std::is_same_v<T, transport::FetchPlugin>) {
          onFetchPlugin(peer, message.requestId, body.hash);
        } else if constexpr (std::is_same_v<T, transport::SavepointRequest>) {
          onSavepointRequest(peer, message.requestId, body);
        } else if constexpr (std::is_same_v<T, transport::SubmitJob>) {
          submit(peer, message.requestId, body);
        } else if constexpr (std::is_same_v<T, transport::StatusRequest>) {
          auto found = jobs_.find(body.jobId);
          if (found == jobs_.end()) {
            reply(peer, message.requestId, false, "no job with id '" + body.jobId + "'");
          } else {
            reply(peer, message.requestId, true, "", statusJson(found->second));
          }
        } else if constexpr (std::is_same_v<T, transport::ListRequest>) {
          nlohmann::json list = nlohmann::json::array();
          for (const auto& id : jobOrder_) list.push_back(nlohmann::json::parse(statusJson(jobs_.at(id))));
          reply(peer, message.requestId, true, "", list.dump());
        } else if constexpr (std::is_same_v<T, transport::WorkersRequest>) {
          nlohmann::json list = nlohmann::json::array();
          for (const auto& [id, worker] : workers_) {
            list.push_back({{"id", id},
                            {"slots", worker.slots},
                            {"free_slots", worker.slots - worker.usedSlots},
                            {"data_endpoint", worker.dataEndpoint}});
          }
          reply(peer, message.requestId, true, "", list.dump());
        } else if constexpr (std::is_same_v<T, transport::CancelRequest>) {
          auto found = jobs_.find(body.jobId);
          if (found == jobs_.end()) {
            reply(peer, message.requestId, false, "no job with id '" + body.jobId + "'");
          } else if (isTerminal(found->second.state)) {
            reply(peer, message.requestId, false,
                  "job " + body.jobId + " is already " + found->second.state + "; nothing to cancel");
          } else {
            endJob(found->second, "CANCELED", "canceled by the user");
            reply(peer, message.requestId, true, "", body.jobId);
          }
        } else {
          log->warn("unexpected control message from a peer; ignored");
        }
      },
      message.body);
}

void JobManager::submit(const std::string& peer, uint64_t requestId, const transport::SubmitJob& submit) {
  transport::JobDefinition definition = submit.job;
  auto pluginFiles = storePlugins(submit, definition);
  if (!pluginFiles.ok()) {
    reply(peer, requestId, false, pluginFiles.status().message());
    return;
  }
  auto prepared = prepareJob(definition, options_.clusterConfig, &*pluginFiles);
  if (!prepared.ok()) {
    reply(peer, requestId, false, prepared.status().message());
    return;
  }
  for (const GraphNode& node : prepared->graph.nodes()) {
    if (!node.planned.prepare) continue;
    Status status = node.planned.prepare(/*resuming=*/!submit.job.restorePath.empty());
    if (!status.ok()) {
      reply(peer, requestId, false, status.message());
      return;
    }
  }
  JobRecord job;
  job.id = newJobId();
  job.name = prepared->spec.name;
  job.definition = definition;
  job.submittedAtMs = wallClockMillis();
  const JobGraph& graph = prepared->graph;
  for (const GraphNode& node : graph.nodes()) {
    job.parallelism[node.planned.id] = node.parallelism;
    job.slotsNeeded = std::max(job.slotsNeeded, node.parallelism);
  }
  for (int head : graph.chainHeads()) {
    for (int subtask = 0; subtask < graph.node(head).parallelism; ++subtask) {
      TaskRecord task;
      task.head = graph.node(head).planned.id;
      task.subtask = subtask;
      for (int member : graph.chainMembers(head)) {
        task.members.push_back(graph.node(member).planned.id);
        task.isSource |= graph.node(member).planned.role == NodeRole::kSource;
        task.hasSink |= graph.node(member).planned.role == NodeRole::kSink;
      }
      job.tasks.push_back(task);
    }
  }
  const Configuration& config = prepared->config;
  // As in Flink: without checkpointing and without an explicit strategy, a failed job is not restarted
  // (a restart would have to start over from the beginning of its input).
  bool checkpointing = config.getDuration("execution.checkpointing.interval").has_value();
  job.restartStrategy = config.contains("restart-strategy.type") || checkpointing
                            ? config.get("restart-strategy.type").value_or("fixed-delay")
                            : "none";
  if (job.restartStrategy == "fixed-delay") {
    job.maxRestarts = static_cast<int>(config.getInteger("restart-strategy.fixed-delay.attempts").value_or(3));
    job.restartDelay = config.getDuration("restart-strategy.fixed-delay.delay").value_or(std::chrono::seconds(1));
  } else if (job.restartStrategy == "exponential-delay") {
    job.maxRestarts = static_cast<int>(
        config.getInteger("restart-strategy.exponential-delay.attempts-before-reset-backoff").value_or(1 << 20));
    job.restartDelay =
        config.getDuration("restart-strategy.exponential-delay.initial-backoff").value_or(std::chrono::seconds(1));
    job.maxBackoff =
        config.getDuration("restart-strategy.exponential-delay.max-backoff").value_or(std::chrono::minutes(1));
  } else {
    job.maxRestarts = 0;
  }
  job.slotTimeout = config.getDuration("slot.request.timeout").value_or(std::chrono::minutes(1));
  if (Status status = setUpCheckpointing(job, config, graph); !status.ok()) {
    reply(peer, requestId, false, status.message());
    return;
  }
  job.waitingForSlots = true;
  job.waitingSince = std::chrono::steady_clock::now();
  std::string id = job.id;
  logger("jobmanager")
      ->info("job {} ({}) submitted: {} tasks, needs {} slots", id, job.name, job.tasks.size(), job.slotsNeeded);
  jobs_[id] = std::move(job);
  jobOrder_.push_back(id);
  reply(peer, requestId, true, "", id);
  trySchedule(jobs_[id]);
}

bool JobManager::trySchedule(JobRecord& job) {
  int freeSlots = 0;
  for (const auto& [id, worker] : workers_) freeSlots += worker.slots - worker.usedSlots;
  if (freeSlots < job.slotsNeeded) return false;
  // Slot-sharing group i (subtask i of every chain) goes to the worker with the most free slots.
  std::vector<std::string> slotWorker(job.slotsNeeded);
  for (int slot = 0; slot < job.slotsNeeded; ++slot) {
    WorkerRecord* best = nullptr;
    for (auto& [id, worker] : workers_) {
      if (worker.usedSlots >= worker.slots) continue;
      if (best == nullptr || worker.slots - worker.usedSlots > best->slots - best->usedSlots) best = &worker;
    }
    ++best->usedSlots;
    ++job.slotsByWorker[best->id];
    slotWorker[slot] = best->id;
  }
  std::string restore = job.initialRestore;
  int64_t restoreId = job.initialRestoreId;
  if (job.checkpoints && job.attempt > 0) {
    auto latest = job.checkpoints->restorePath();
    if (!latest.ok()) {
      releaseSlots(job);
      endJob(job, "FAILED", latest.status().message());
      return true;
    }
    if (latest->has_value()) {
      restore = **latest;
      auto loaded = loadCheckpoint(restore);
      restoreId = loaded.ok() ? loaded->metadata.checkpointId : -1;
    }
  }
  if (job.checkpoints && !restore.empty()) job.checkpoints->markRestored(restoreId);
  job.waitingForSlots = false;
  ++job.attempt;
  transport::DeployTasks deploy;
  deploy.jobId = job.id;
  deploy.attempt = job.attempt;
  deploy.job = job.definition;
  deploy.restoreMetadata = restore;
  deploy.checkpointing = job.checkpoints && job.checkpoints->enabled();
  for (TaskRecord& task : job.tasks) {
    task.worker = slotWorker[task.subtask];
    task.state = "DEPLOYING";
    task.recordsIn = task.recordsOut = 0;
    task.backpressure = 0;
    task.watermarks.clear();
    deploy.placements.push_back(transport::Placement{task.head, static_cast<uint32_t>(task.subtask), task.worker,
                                                     workers_.at(task.worker).dataEndpoint});
  }
  for (const auto& [workerId, slots] : job.slotsByWorker) {
    server_->send(workers_.at(workerId).peer, transport::ControlMessage{0, deploy});
  }
  job.state = "RUNNING";
  logger("jobmanager")
      ->info("job {} attempt {} deployed on {} workers{}", job.id, job.attempt, job.slotsByWorker.size(),
             restore.empty() ? "" : ", restoring " + restore);
  return true;
}

void JobManager::releaseSlots(JobRecord& job) {
  for (const auto& [workerId, slots] : job.slotsByWorker) {
    auto found = workers_.find(workerId);
    if (found != workers_.end()) found->second.usedSlots = std::max(0, found->second.usedSlots - slots);
  }
  job.slotsByWorker.clear();
}

void JobManager::cancelAttempt(JobRecord& job) {
  for (const auto& [workerId, slots] : job.slotsByWorker) {
    auto found = workers_.find(workerId);
    if (found == workers_.end()) continue;
    server_->send(found->second.peer, transport::ControlMessage{0, transport::CancelJob{job.id, job.attempt}});
  }
  releaseSlots(job);
}

void JobManager::endJob(JobRecord& job, const std::string& state, const std::string& failure) {
  cancelAttempt(job);  // also cleans up the workers' finished executions
  if (job.savepoint) failSavepoint(job, "the job ended (" + state + ") before the savepoint completed");
  if (job.checkpoints) job.checkpoints->jobEnded(state != "FINISHED");
  job.state = state;
  job.failure = failure;
  job.waitingForSlots = false;
  job.finishedAtMs = wallClockMillis();
  for (TaskRecord& task : job.tasks) {
    if (!isTerminal(task.state)) task.state = state == "FINISHED" ? "FINISHED" : "CANCELED";
  }
  logger("jobmanager")->info("job {} ({}) {}{}", job.id, job.name, state, failure.empty() ? "" : ": " + failure);
}

void JobManager::failAttempt(JobRecord& job, const std::string& reason) {
  if (job.state != "RUNNING") return;
  auto log = logger("jobmanager");
  if (job.restarts >= job.maxRestarts) {
    std::string why = reason;
    if (job.maxRestarts > 0) why += " (gave up after " + std::to_string(job.restarts) + " restarts)";
    endJob(job, "FAILED", why);
    return;
  }
  cancelAttempt(job);
  if (job.checkpoints) job.checkpoints->abortPending("attempt " + std::to_string(job.attempt) + " failed");
  if (job.savepoint) failSavepoint(job, "the job failed: " + reason);
  ++job.restarts;
  job.state = "RESTARTING";
  job.failure = reason;
  auto delay = job.restartDelay;
  if (job.restartStrategy == "exponential-delay") {
    for (int i = 1; i < job.restarts && delay < job.maxBackoff; ++i) delay *= 2;
    delay = std::min(delay, job.maxBackoff);
  }
  job.restartAt = std::chrono::steady_clock::now() + delay;
  log->warn("job {} attempt {} failed: {}; restart {} of {} in {} ms", job.id, job.attempt, reason, job.restarts,
            job.maxRestarts, delay.count());
}

void JobManager::onTaskState(const transport::TaskStateUpdate& update) {
  auto found = jobs_.find(update.jobId);
  if (found == jobs_.end()) return;
  JobRecord& job = found->second;
  if (update.attempt != job.attempt || job.state != "RUNNING") return;  // stale
  for (TaskRecord& task : job.tasks) {
    if (task.head != update.node || task.subtask != static_cast<int>(update.subtask)) continue;
    // Counters only grow within an attempt; a metrics report may arrive after the final state.
    task.recordsIn = std::max(task.recordsIn, update.recordsIn);
    task.recordsOut = std::max(task.recordsOut, update.recordsOut);
    if (update.metricsOnly) {
      task.backpressure = update.backpressure;
      for (const auto& [node, watermark] : update.watermarks) task.watermarks[node] = std::stoll(watermark);
      continue;
    }
    task.state = update.state;
  }
  if (update.metricsOnly) return;
  if (update.state == "FAILED") {
    failAttempt(job, "task " + update.node + "[" + std::to_string(update.subtask) + "] failed: " + update.error);
    return;
  }
  if (update.state == "FINISHING" && job.checkpoints) {
    // Its input ended while a checkpoint may be waiting for its barrier: trigger it directly.
    transport::TaskRef ref{update.node, update.subtask};
    if (auto trigger = job.checkpoints->triggerForEndedTask(ref, job.attempt)) {
      auto worker = workers_.find(update.workerId);
      if (worker != workers_.end()) server_->send(worker->second.peer, transport::ControlMessage{0, *trigger});
    }
    tickCheckpoints(job);
  }
  bool allFinished =
      std::all_of(job.tasks.begin(), job.tasks.end(), [](const TaskRecord& task) { return task.state == "FINISHED"; });
  if (allFinished) endJob(job, "FINISHED");
}

void JobManager::workerLost(const std::string& workerId, const std::string& why, bool expected) {
  auto found = workers_.find(workerId);
  if (found == workers_.end()) return;
  if (expected) {
    logger("jobmanager")->info("{}", why);
  } else {
    logger("jobmanager")->warn("{}", why);
  }
  workers_.erase(found);
  for (auto& [id, job] : jobs_) {
    if (job.state != "RUNNING" || job.slotsByWorker.count(workerId) == 0) continue;
    job.slotsByWorker.erase(workerId);
    failAttempt(job, why);
  }
}

void JobManager::tick() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> lost;
  for (const auto& [id, worker] : workers_) {
    if (now - worker.lastHeartbeat > heartbeatTimeout_) lost.push_back(id);
  }
  for (const auto& id : lost) {
    workerLost(id, "worker " + id + " lost: no heartbeat for " + std::to_string(heartbeatTimeout_.count()) + " ms");
  }
  for (const auto& id : jobOrder_) {
    JobRecord& job = jobs_.at(id);
    if (job.state == "RUNNING") tickCheckpoints(job);
    if (job.state == "RESTARTING" && now >= job.restartAt) {
      job.waitingForSlots = true;
      job.waitingSince = now;
      job.state = "CREATED";
    }
    if (!job.waitingForSlots) continue;
    if (trySchedule(job)) continue;
    if (now - job.waitingSince > job.slotTimeout) {
      int freeSlots = 0;
      for (const auto& [workerId, worker] : workers_) freeSlots += worker.slots - worker.usedSlots;
      endJob(job, "FAILED",
             "not enough task slots: the job needs " + std::to_string(job.slotsNeeded) + ", the cluster has " +
                 std::to_string(freeSlots) + " free (" + std::to_string(workers_.size()) + " workers) after waiting " +
                 std::to_string(job.slotTimeout.count()) + " ms");
    }
  }
}

std::string JobManager::statusJson(const JobRecord& job) const {
  nlohmann::json out;
  out["id"] = job.id;
  out["name"] = job.name;
  out["state"] = job.state;
  out["submitted_at"] = job.submittedAtMs;
  out["finished_at"] = job.finishedAtMs == 0 ? nlohmann::json(nullptr) : nlohmann::json(job.finishedAtMs);
  out["restarts"] = job.restarts;
  out["attempt"] = job.attempt;
  if (job.checkpoints) {
    auto restored = job.checkpoints->restoredFrom();
    out["restored_from"] = restored ? nlohmann::json(*restored) : nlohmann::json(nullptr);
    out["checkpoints"] = job.checkpoints->statusJson();
  } else {
    out["restored_from"] = nullptr;
    out["checkpoints"] = {
        {"enabled", false}, {"completed", 0}, {"latest", nullptr}, {"history", nlohmann::json::array()}};
  }
  out["failure"] = job.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.failure);
  out["slots"] = job.slotsNeeded;
  int64_t recordsIn = 0;
  int64_t recordsOut = 0;
  nlohmann::json tasks = nlohmann::json::array();
  struct NodeSummary {
    double backpressure = 0;
    int64_t watermark = 0;
    bool seen = false;
  };
  std::map<std::string, NodeSummary> nodeSummary;
  for (const TaskRecord& task : job.tasks) {
    if (task.isSource) recordsIn += task.recordsIn;
    if (task.hasSink) recordsOut += task.recordsOut;
    for (const std::string& member : task.members) {
      auto watermark = task.watermarks.find(member);
      tasks.push_back({{"node", member},
                       {"subtask", task.subtask},
                       {"worker", task.worker},
                       {"state", task.state},
                       {"chain", task.head},
                       {"records_in", task.recordsIn},
                       {"records_out", task.recordsOut},
                       {"backpressure", task.backpressure},
                       {"watermark", watermark == task.watermarks.end() ? nlohmann::json(nullptr)
                                                                        : nlohmann::json(watermark->second)}});
      auto& node = nodeSummary[member];
      node.backpressure = std::max(node.backpressure, task.backpressure);
      if (watermark != task.watermarks.end()) {
        node.watermark = node.seen ? std::min(node.watermark, watermark->second) : watermark->second;
        node.seen = true;
      }
    }
  }
  out["tasks"] = tasks;
  out["records_in"] = recordsIn;
  out["records_out"] = recordsOut;
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [node, parallelism] : job.parallelism) {
    const NodeSummary& summary = nodeSummary[node];
    nodes[node] = {{"parallelism", parallelism},
                   {"backpressure", summary.backpressure},
                   {"watermark", summary.seen ? nlohmann::json(summary.watermark) : nlohmann::json(nullptr)}};
  }
  out["nodes"] = nodes;
  return out.dump();
}

Result<std::map<std::string, std::string>> JobManager::storePlugins(const transport::SubmitJob& submit,
                                                                    transport::JobDefinition& definition) {
  std::map<std::string, std::string> files;
  definition.pluginHashes.clear();
  for (const transport::PluginFile& plugin : submit.plugins) {
    SLUICE_ASSIGN_OR_RETURN(std::string hash, storePlugin(pluginDirectory_, plugin.content));
    definition.pluginHashes[plugin.name] = hash;
    files[plugin.name] = pluginPath(pluginDirectory_, hash);
  }
  return files;
}

void JobManager::onFetchPlugin(const std::string& peer, uint64_t requestId, const std::string& hash) {
  auto content = readStoredPlugin(pluginDirectory_, hash);
  if (!content.ok()) {
    reply(peer, requestId, false, content.status().message());
    return;
  }
  server_->send(peer, transport::ControlMessage{requestId, transport::PluginContent{{hash, std::move(*content)}}});
}

Status JobManager::setUpCheckpointing(JobRecord& job, const Configuration& config, const JobGraph& graph) {
  CheckpointSettings settings;
  settings.interval = config.getDuration("execution.checkpointing.interval").value_or(std::chrono::milliseconds(0));
  settings.timeout = config.getDuration("execution.checkpointing.timeout").value_or(std::chrono::minutes(10));
  settings.minPause = config.getDuration("execution.checkpointing.min-pause").value_or(std::chrono::milliseconds(0));
  settings.retained = static_cast<int>(config.getInteger("state.checkpoints.num-retained").value_or(1));
  settings.deleteOnCancel =
      config.get("execution.checkpointing.externalized-checkpoint-retention").value_or("") == "delete_on_cancellation";
  if (config.get("execution.checkpointing.unaligned.enabled").value_or("false") == "true") {
    return Status::invalidArgument(
        "execution.checkpointing.unaligned.enabled: unaligned checkpoints are not supported yet; barriers are aligned");
  }
  std::string directory = config.get("state.checkpoints.dir").value_or("");
  if (settings.interval.count() > 0 && directory.empty()) {
    return Status::invalidArgument(
        "execution.checkpointing.interval is set but there is no checkpoint directory: set state.checkpoints.dir or "
        "start the job manager with --checkpoint-dir");
  }
  job.savepointDirectory = config.get("state.savepoints.dir").value_or("");
  if (!directory.empty()) settings.jobDirectory = (std::filesystem::absolute(directory) / job.id).string();
  std::vector<std::pair<std::string, int>> parallelism(job.parallelism.begin(), job.parallelism.end());

  if (!job.definition.restorePath.empty()) {
    SLUICE_ASSIGN_OR_RETURN(LoadedCheckpoint loaded, loadCheckpoint(job.definition.restorePath));
    SLUICE_RETURN_NOT_OK(verifyCheckpoint(loaded));
    if (loaded.metadata.maxParallelism != graph.maxParallelism()) {
      return Status::invalidArgument("cannot resume from '" + job.definition.restorePath + "': it was taken with " +
                                     "pipeline.max-parallelism " + std::to_string(loaded.metadata.maxParallelism) +
                                     ", the job now has " + std::to_string(graph.maxParallelism()));
    }
    std::vector<std::string> missing;
    for (const TaskStateHandle& task : loaded.metadata.tasks) {
      for (const OperatorStateHandle& op : task.operators) {
        bool hasState = op.keyedState || !op.operatorStateFile.empty() || !op.sourcePosition.empty();
        if (hasState && job.parallelism.count(op.node) == 0 &&
            std::find(missing.begin(), missing.end(), op.node) == missing.end()) {
          missing.push_back(op.node);
        }
      }
    }
    if (!missing.empty() && !job.definition.allowNonRestoredState) {
      std::string names;
      for (const auto& name : missing) names += (names.empty() ? "'" : ", '") + name + "'";
      return Status::invalidArgument("cannot resume from '" + job.definition.restorePath + "': it holds state of " +
                                     names +
                                     ", which the job no longer has; pass --allow-non-restored-state to "
                                     "drop that state");
    }
    job.initialRestore = loaded.metadataPath;
    job.initialRestoreId = loaded.metadata.checkpointId;
  }
  job.checkpoints = std::make_shared<CheckpointCoordinator>(job.id, job.name, settings, graph.maxParallelism(),
                                                            std::move(parallelism));
  if (job.initialRestoreId >= 0) job.checkpoints->continueAfter(job.initialRestoreId);
  return Status::OK();
}

void JobManager::sendToWorkers(const JobRecord& job, const transport::ControlBody& body) {
  for (const auto& [workerId, slots] : job.slotsByWorker) {
    auto found = workers_.find(workerId);
    if (found != workers_.end()) server_->send(found->second.peer, transport::ControlMessage{0, body});
  }
}

std::vector<CoordinatedTask> JobManager::coordinatedTasks(const JobRecord& job) const {
  std::vector<CoordinatedTask> tasks;
  for (const TaskRecord& task : job.tasks) {
    tasks.push_back(CoordinatedTask{{task.head, static_cast<uint32_t>(task.subtask)}, task.state, task.isSource});
  }
  return tasks;
}

void JobManager::tickCheckpoints(JobRecord& job) {
  if (!job.checkpoints || !job.checkpoints->enabled()) return;
  job.checkpoints->checkTimeout();
  if (job.savepoint && job.savepoint->checkpointId >= 0 &&
      job.checkpoints->pendingId() != job.savepoint->checkpointId) {
    // The savepoint's checkpoint was aborted (completion is handled on acknowledgement).
    failSavepoint(job, "checkpoint " + std::to_string(job.savepoint->checkpointId) + " was aborted");
  }
  // A savepoint forces a checkpoint now; a draining one once every task has ended.
  bool force = job.savepoint && job.savepoint->checkpointId < 0 &&
               (!job.savepoint->drain || std::all_of(job.tasks.begin(), job.tasks.end(), [](const TaskRecord& task) {
                 return task.state == "FINISHING" || task.state == "FINISHED";
               }));
  auto trigger = job.checkpoints->maybeTrigger(coordinatedTasks(job), job.attempt, force);
  if (!trigger) return;
  if (force) job.savepoint->checkpointId = trigger->checkpointId;
  logger("checkpoint")
      ->debug("job {}: triggering checkpoint {} ({} tasks directly)", job.id, trigger->checkpointId,
              trigger->tasks.size());
  sendToWorkers(job, *trigger);
}

void JobManager::onAcknowledge(const transport::AcknowledgeCheckpoint& ack) {
  auto found = jobs_.find(ack.jobId);
  if (found == jobs_.end()) return;
  JobRecord& job = found->second;
  logger("checkpoint")
      ->debug("job {}: {}[{}] acknowledged checkpoint {}{}", job.id, ack.task.node, ack.task.subtask, ack.checkpointId,
              ack.finished ? " (finished)" : "");
  if (ack.attempt != job.attempt || job.state != "RUNNING" || !job.checkpoints) return;
  auto completed = job.checkpoints->acknowledge(ack);
  if (!completed.ok()) {
    logger("jobmanager")
        ->warn("job {}: checkpoint {} failed: {}", job.id, ack.checkpointId, completed.status().toString());
    if (job.savepoint && job.savepoint->checkpointId == ack.checkpointId) {
      failSavepoint(job, completed.status().message());
    }
    return;
  }
  if (!completed->has_value()) return;
  const int64_t id = **completed;
  sendToWorkers(job, transport::CheckpointComplete{job.id, job.attempt, id});
  job.checkpoints->markNotified(id);
  bool savepointDone = job.savepoint && (job.savepoint->drain ? job.checkpoints->lastCompletedWasFinal()
                                                              : job.savepoint->checkpointId == id);
  if (job.savepoint && job.savepoint->drain && job.savepoint->checkpointId == id && !savepointDone) {
    job.savepoint->checkpointId = -1;  // not every task had ended yet: force another once they have
  }
  if (savepointDone) {
    JobRecord::SavepointWaiter waiter = *job.savepoint;
    job.savepoint.reset();
    auto path = job.checkpoints->writeSavepoint(id, waiter.directory);
    if (!path.ok()) {
      reply(waiter.peer, waiter.requestId, false, path.status().message());
      return;
    }
    reply(waiter.peer, waiter.requestId, true, "", *path);
    // A drained job finishes by itself once its tasks learn that the final checkpoint completed.
    if (waiter.stop && !waiter.drain) endJob(job, "FINISHED", "stopped with a savepoint at " + *path);
  }
}

void JobManager::onDecline(const transport::DeclineCheckpoint& decline) {
  auto found = jobs_.find(decline.jobId);
  if (found == jobs_.end()) return;
  JobRecord& job = found->second;
  if (decline.attempt != job.attempt || !job.checkpoints) return;
  job.checkpoints->decline(decline);
  if (job.savepoint && job.savepoint->checkpointId == decline.checkpointId) {
    failSavepoint(job, "task " + decline.task.node + "[" + std::to_string(decline.task.subtask) +
                           "] declined: " + decline.reason);
  }
}

void JobManager::failSavepoint(JobRecord& job, const std::string& reason) {
  if (!job.savepoint) return;
  reply(job.savepoint->peer, job.savepoint->requestId, false, "savepoint of job " + job.id + " failed: " + reason);
  job.savepoint.reset();
}

void JobManager::onSavepointRequest(const std::string& peer, uint64_t requestId,
                                    const transport::SavepointRequest& request) {
  auto found = jobs_.find(request.jobId);
  if (found == jobs_.end()) {
    reply(peer, requestId, false, "no job with id '" + request.jobId + "'");
    return;
  }
  JobRecord& job = found->second;
  if (job.state != "RUNNING") {
    reply(peer, requestId, false, "job " + job.id + " is " + job.state + "; only a running job can take a savepoint");
    return;
  }
  if (!job.checkpoints || !job.checkpoints->enabled()) {
    reply(peer, requestId, false,
          "job " + job.id +
              " does not checkpoint; savepoints need execution.checkpointing.interval and a checkpoint "
              "directory");
    return;
  }
  if (request.drain && !request.stop) {
    reply(peer, requestId, false, "--drain only applies when stopping a job (sluice stop JOB --savepoint DIR --drain)");
    return;
  }
  if (job.savepoint) {
    reply(peer, requestId, false, "job " + job.id + " is already taking a savepoint");
    return;
  }
  std::string directory = request.directory.empty() ? job.savepointDirectory : request.directory;
  if (directory.empty()) {
    reply(peer, requestId, false, "no savepoint directory: give one or set state.savepoints.dir");
    return;
  }
  job.savepoint = JobRecord::SavepointWaiter{peer, requestId, directory, request.stop, request.drain, -1};
  if (request.drain) {
    // The sources end their input: the final watermark fires every event-time
    // window, the tasks finish, and the job's final checkpoint (taken once every
    // task has ended) is copied into the savepoint.
    logger("jobmanager")->info("job {}: draining for a savepoint in {}", job.id, directory);
    sendToWorkers(job, transport::DrainSources{job.id, job.attempt});
  }
  tickCheckpoints(job);
}

}  // namespace sluice
