#include "jobmanager/job_manager.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

#include "runtime/base/logging.h"

namespace sluice {
namespace {

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  auto prepared = prepareJob(submit.job, options_.clusterConfig);
  if (!prepared.ok()) {
    reply(peer, requestId, false, prepared.status().message());
    return;
  }
  for (const GraphNode& node : prepared->graph.nodes()) {
    if (!node.planned.prepare) continue;
    Status status = node.planned.prepare(/*resuming=*/false);
    if (!status.ok()) {
      reply(peer, requestId, false, status.message());
      return;
    }
  }
  JobRecord job;
  job.id = newJobId();
  job.name = prepared->spec.name;
  job.definition = submit.job;
  job.submittedAtMs = nowMillis();
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
  job.waitingForSlots = false;
  ++job.attempt;
  transport::DeployTasks deploy;
  deploy.jobId = job.id;
  deploy.attempt = job.attempt;
  deploy.job = job.definition;
  for (TaskRecord& task : job.tasks) {
    task.worker = slotWorker[task.subtask];
    task.state = "DEPLOYING";
    task.recordsIn = task.recordsOut = 0;
    deploy.placements.push_back(transport::Placement{task.head, static_cast<uint32_t>(task.subtask), task.worker,
                                                     workers_.at(task.worker).dataEndpoint});
  }
  for (const auto& [workerId, slots] : job.slotsByWorker) {
    server_->send(workers_.at(workerId).peer, transport::ControlMessage{0, deploy});
  }
  job.state = "RUNNING";
  logger("jobmanager")->info("job {} attempt {} deployed on {} workers", job.id, job.attempt, job.slotsByWorker.size());
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
  job.state = state;
  job.failure = failure;
  job.waitingForSlots = false;
  job.finishedAtMs = nowMillis();
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
    task.state = update.state;
    task.recordsIn = update.recordsIn;
    task.recordsOut = update.recordsOut;
  }
  if (update.state == "FAILED") {
    failAttempt(job, "task " + update.node + "[" + std::to_string(update.subtask) + "] failed: " + update.error);
    return;
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
  out["restored_from"] = nullptr;
  out["checkpoints"] = {{"completed", 0}, {"latest", nullptr}, {"history", nlohmann::json::array()}};
  out["failure"] = job.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.failure);
  out["slots"] = job.slotsNeeded;
  int64_t recordsIn = 0;
  int64_t recordsOut = 0;
  nlohmann::json tasks = nlohmann::json::array();
  for (const TaskRecord& task : job.tasks) {
    if (task.isSource) recordsIn += task.recordsIn;
    if (task.hasSink) recordsOut += task.recordsOut;
    for (const std::string& member : task.members) {
      tasks.push_back({{"node", member},
                       {"subtask", task.subtask},
                       {"worker", task.worker},
                       {"state", task.state},
                       {"chain", task.head},
                       {"records_in", task.recordsIn},
                       {"records_out", task.recordsOut}});
    }
  }
  out["tasks"] = tasks;
  out["records_in"] = recordsIn;
  out["records_out"] = recordsOut;
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [node, parallelism] : job.parallelism) nodes[node] = {{"parallelism", parallelism}};
  out["nodes"] = nodes;
  return out.dump();
}

}  // namespace sluice
