#include "worker/job_execution.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "runtime/base/fault_injection.h"
#include "runtime/base/logging.h"
#include "runtime/data/key_group.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/task/split_set_reader.h"
#include "runtime/transport/data_plane.h"

namespace sluice {

uint64_t JobExecution::jobKeyOf(const std::string& jobId) { return hashBytes(jobId); }

namespace {

/// Restore helpers: what a checkpoint holds for one node.
struct NodeRestore {
  const LoadedCheckpoint* checkpoint = nullptr;
  int oldParallelism = 0;
  std::vector<std::pair<int, const OperatorStateHandle*>> handles;  // (old subtask, handle)
  const TaskStateHandle* taskOf(int subtask) const;
};

NodeRestore findNode(const LoadedCheckpoint& checkpoint, const std::string& node) {
  NodeRestore out;
  out.checkpoint = &checkpoint;
  for (const auto& [name, parallelism] : checkpoint.metadata.parallelism) {
    if (name == node) out.oldParallelism = parallelism;
  }
  for (const TaskStateHandle& task : checkpoint.metadata.tasks) {
    for (const OperatorStateHandle& op : task.operators) {
      if (op.node == node) out.handles.emplace_back(task.subtask, &op);
    }
  }
  return out;
}

/// Restores a non-source operator: keyed state (all snapshots of the node; the
/// backend keeps its key groups) and operator blobs (same subtask, or when
/// rescaled every old subtask j with j mod parallelism == subtask).
Status restoreOperator(const NodeRestore& restore, int subtask, int parallelism, Operator& op,
                       KeyedStateBackend* backend) {
  if (backend != nullptr) {
    std::vector<StateSnapshot> snapshots;
    for (const auto& [oldSubtask, handle] : restore.handles) {
      if (handle->keyedState) snapshots.push_back(*handle->keyedState);
    }
    if (!snapshots.empty()) SLUICE_RETURN_NOT_OK(backend->restore(snapshots, restore.checkpoint->root));
  }
  for (const auto& [oldSubtask, handle] : restore.handles) {
    bool mine = restore.oldParallelism == parallelism ? oldSubtask == subtask : oldSubtask % parallelism == subtask;
    if (!mine || handle->operatorStateFile.empty()) continue;
    SLUICE_ASSIGN_OR_RETURN(OperatorSnapshot snapshot,
                            readOperatorState(restore.checkpoint->root, handle->operatorStateFile));
    SLUICE_RETURN_NOT_OK(op.restoreState(snapshot));
  }
  return Status::OK();
}

/// The reader of source subtask `subtask`, resumed where the checkpoint left
/// it. With the same parallelism (and plain positions) each subtask resumes
/// its own split; otherwise the checkpoint's splits are dealt out round-robin
/// and each subtask reads its share through a SplitSetReader.
Result<std::unique_ptr<SourceReader>> restoreReader(const NodeRestore& restore, const PlannedNode& planned, int subtask,
                                                    int parallelism, std::unique_ptr<SourceReader> reader) {
  std::vector<SplitPosition> splits;
  bool plain = restore.oldParallelism == parallelism;
  for (const auto& [oldSubtask, handle] : restore.handles) {
    if (!handle->isSource) continue;
    if (isSplitSetPosition(handle->sourcePosition)) {
      plain = false;
      SLUICE_ASSIGN_OR_RETURN(auto decoded, decodeSplitPositions(handle->sourcePosition));
      splits.insert(splits.end(), decoded.begin(), decoded.end());
    } else {
      splits.push_back(SplitPosition{oldSubtask, restore.oldParallelism, handle->sourcePosition});
    }
  }
  if (splits.empty()) return reader;  // the source has no state in the checkpoint
  std::sort(splits.begin(), splits.end(), [](const SplitPosition& a, const SplitPosition& b) {
    return std::tie(a.numSplits, a.split) < std::tie(b.numSplits, b.split);
  });
  if (plain) {
    for (const SplitPosition& split : splits) {
      if (split.split == subtask && !split.position.empty())
        SLUICE_RETURN_NOT_OK(reader->restorePosition(split.position));
    }
    return reader;
  }
  std::vector<SplitSetReader::Part> parts;
  for (size_t k = static_cast<size_t>(subtask); k < splits.size(); k += static_cast<size_t>(parallelism)) {
    SplitSetReader::Part part{splits[k].split, splits[k].numSplits,
                              planned.createReader(splits[k].split, splits[k].numSplits)};
    if (!part.reader) return Status::internal("source '" + planned.id + "' created no reader");
    if (!splits[k].position.empty()) SLUICE_RETURN_NOT_OK(part.reader->restorePosition(splits[k].position));
    parts.push_back(std::move(part));
  }
  return std::unique_ptr<SourceReader>(std::make_unique<SplitSetReader>(std::move(parts)));
}

}  // namespace

Result<std::unique_ptr<JobExecution>> JobExecution::create(const JobGraph& graph, const ExecutionOptions& options) {
  std::unique_ptr<JobExecution> execution(new JobExecution());
  execution->options_ = options;

  auto placementOf = [&](int head, int subtask) -> const TaskPlacement* {
    auto found = options.placements.find({graph.node(head).planned.id, subtask});
    return found == options.placements.end() ? nullptr : &found->second;
  };
  auto isLocal = [&](int head, int subtask) {
    if (options.placements.empty()) return true;
    const TaskPlacement* placement = placementOf(head, subtask);
    return placement != nullptr && placement->workerId == options.localWorkerId;
  };
  for (int head : graph.chainHeads()) {
    for (int subtask = 0; subtask < graph.node(head).parallelism; ++subtask) {
      if (!options.placements.empty() && placementOf(head, subtask) == nullptr) {
        return Status::internal("no placement for task " + graph.node(head).planned.id + "[" + std::to_string(subtask) +
                                "]");
      }
      if (!isLocal(head, subtask) && options.dataPlane == nullptr) {
        return Status::internal("tasks on other workers but no data plane");
      }
    }
  }

  // Parts of every local task, keyed by (chain head, subtask).
  std::map<std::pair<int, int>, TaskParts> parts;
  // Where each local (node, subtask) lives: its output router and operator.
  std::map<std::pair<int, int>, OutputRouter*> routers;
  std::map<std::pair<int, int>, ChainedOperator*> chained;
  std::map<std::pair<int, int>, TaskInfo> infos;

  for (int head : graph.chainHeads()) {
    const GraphNode& headNode = graph.node(head);
    for (int subtask = 0; subtask < headNode.parallelism; ++subtask) {
      if (!isLocal(head, subtask)) continue;
      TaskParts& task = parts[{head, subtask}];
      TaskInfo& info = infos[{head, subtask}];
      info.node = headNode.planned.id;
      info.subtask = subtask;
      task.name = headNode.planned.id + "[" + std::to_string(subtask) + "]";
      task.bufferTimeout = options.bufferTimeout;
      for (int member : graph.chainMembers(head)) {
        const GraphNode& node = graph.node(member);
        info.hasSink |= node.planned.role == NodeRole::kSink;
        OperatorContext context;
        context.nodeId = node.planned.id;
        context.subtaskIndex = subtask;
        context.parallelism = node.parallelism;
        context.maxParallelism = graph.maxParallelism();
        context.attempt = options.attempt;
        context.jobId = options.jobId;
        context.checkpointing = options.checkpointing;
        if (node.planned.role == NodeRole::kSource) {
          task.reader = node.planned.createReader(subtask, node.parallelism);
          if (!task.reader) return Status::internal("source '" + node.planned.id + "' created no reader");
          task.readerContext = context;
          if (options.restore) {
            SLUICE_ASSIGN_OR_RETURN(task.reader,
                                    restoreReader(findNode(*options.restore, node.planned.id), node.planned, subtask,
                                                  node.parallelism, std::move(task.reader)));
          }
          task.readerOutput = std::make_unique<OutputRouter>();
          routers[{member, subtask}] = task.readerOutput.get();
        } else {
          if (node.planned.keyed) {
            StateBackendOptions stateOptions;
            stateOptions.type = options.stateBackendType;
            stateOptions.maxParallelism = graph.maxParallelism();
            stateOptions.keyGroups = KeyGroupRange::forSubtask(subtask, node.parallelism, graph.maxParallelism());
            if (options.stateDirectory.empty()) {
              return Status::internal("keyed node '" + node.planned.id + "' but no state directory");
            }
            stateOptions.directory = options.stateDirectory + "/" + node.planned.id + "-" + std::to_string(subtask);
            SLUICE_ASSIGN_OR_RETURN(auto backend, createKeyedStateBackend(stateOptions));
            context.keyedStateBackend = backend.get();
            execution->stateBackends_.push_back(std::move(backend));
          }
          auto op = std::make_unique<ChainedOperator>();
          op->op = node.planned.createOperator();
          if (!op->op) return Status::internal("node '" + node.planned.id + "' created no operator");
          if (options.restore) {
            SLUICE_RETURN_NOT_OK(restoreOperator(findNode(*options.restore, node.planned.id), subtask, node.parallelism,
                                                 *op->op, context.keyedStateBackend)
                                     .withContext("restoring node '" + node.planned.id + "' from checkpoint " +
                                                  std::to_string(options.restore->metadata.checkpointId)));
          }
          op->context = context;
          routers[{member, subtask}] = &op->output;
          chained[{member, subtask}] = op.get();
          task.operators.push_back(std::move(op));
        }
      }
      if (headNode.planned.role != NodeRole::kSource) task.gate = std::make_unique<InputGate>();
      if (options.checkpointing) task.checkpointHandler = execution.get();
      if (options.restore && findNode(*options.restore, headNode.planned.id).oldParallelism == headNode.parallelism) {
        for (const TaskStateHandle& handle : options.restore->metadata.tasks) {
          if (handle.head == headNode.planned.id && handle.subtask == subtask && handle.finished) {
            task.restoredFinished = true;
          }
        }
      }
    }
  }

  uint64_t jobKey = jobKeyOf(options.jobId);
  uint32_t channelId = 0;  // numbered identically on every worker: edges, consumers, producers
  for (size_t e = 0; e < graph.edges().size(); ++e) {
    const GraphEdge& edge = graph.edges()[e];
    const GraphNode& upstream = graph.node(edge.upstream);
    const GraphNode& downstream = graph.node(edge.downstream);
    if (downstream.chainedInput == static_cast<int>(e)) {
      for (int subtask = 0; subtask < downstream.parallelism; ++subtask) {
        if (!isLocal(downstream.chainHead, subtask)) continue;
        ChainedOperator* next = chained[{edge.downstream, subtask}];
        routers[{edge.upstream, subtask}]->addChained(edge.tag, next->op.get(), &next->output, edge.input);
      }
      continue;
    }
    // Every upstream subtask gets one channel into every downstream subtask.
    std::vector<std::vector<OutputChannel*>> channelsPerProducer(upstream.parallelism);
    for (int consumer = 0; consumer < downstream.parallelism; ++consumer) {
      bool consumerLocal = isLocal(edge.downstream, consumer);
      InputGate* gate = consumerLocal ? parts[{edge.downstream, consumer}].gate.get() : nullptr;
      for (int producer = 0; producer < upstream.parallelism; ++producer) {
        uint32_t id = channelId++;
        bool producerLocal = isLocal(upstream.chainHead, producer);
        transport::ChannelKey key{jobKey, static_cast<uint32_t>(options.attempt), id};
        if (consumerLocal && producerLocal) {
          channelsPerProducer[producer].push_back(gate->addChannel(edge.input, options.channelCapacity));
        } else if (consumerLocal) {
          options.dataPlane->registerInput(key, gate->addChannel(edge.input, options.channelCapacity));
        } else if (producerLocal) {
          const TaskPlacement* placement = placementOf(edge.downstream, consumer);
          auto output = options.dataPlane->openOutput(placement->dataEndpoint, key,
                                                      static_cast<uint32_t>(options.channelCapacity));
          channelsPerProducer[producer].push_back(output.get());
          execution->remoteOutputs_.push_back(std::move(output));
        } else {
          channelsPerProducer[producer].push_back(nullptr);  // neither end is here
        }
      }
    }
    for (int producer = 0; producer < upstream.parallelism; ++producer) {
      if (!isLocal(upstream.chainHead, producer)) continue;
      RecordWriter::Options writerOptions;
      writerOptions.partitioning = edge.partitioning;
      writerOptions.producerSubtask = producer;
      writerOptions.maxParallelism = graph.maxParallelism();
      writerOptions.targetRows = options.targetBatchRows;
      writerOptions.bufferTimeout = options.bufferTimeout;
      auto writer = std::make_unique<RecordWriter>(writerOptions, channelsPerProducer[producer]);
      routers[{edge.upstream, producer}]->addWriter(edge.tag, writer.get());
      parts[{upstream.chainHead, producer}].writers.push_back(std::move(writer));
    }
  }

  for (auto& [key, taskParts] : parts) {
    bool isSource = taskParts.reader != nullptr;
    TaskInfo info = infos[key];
    auto task = std::make_unique<Task>(std::move(taskParts));
    if (isSource) execution->sourceTasks_.push_back(task.get());
    if (info.hasSink) execution->sinkTasks_.push_back(task.get());
    execution->taskInfo_[task.get()] = info;
    execution->tasksByRef_[{info.node, info.subtask}] = task.get();
    execution->tasks_.push_back(std::move(task));
  }
  return execution;
}

JobExecution::~JobExecution() {
  cancel();
  for (auto& task : tasks_) task->join();
}

void JobExecution::start() {
  for (auto& task : tasks_) {
    task->start([this](Task& task, TaskState state, const Status& status) { onTaskState(task, state, status); });
  }
}

void JobExecution::onTaskState(Task& task, TaskState state, const Status& status) {
  if (listener_) {
    const TaskInfo& info = taskInfo_.at(&task);
    listener_(info.node, info.subtask, state, status, task.recordsIn(),
              info.hasSink ? task.recordsWritten() : task.recordsOut());
  }
  if (state == TaskState::kRunning || state == TaskState::kCreated || state == TaskState::kFinishing) return;
  bool cancelOthers = false;
  {
    std::lock_guard lock(mutex_);
    ++stopped_;
    if (state == TaskState::kFailed && failure_.ok()) {
      failure_ = status.withContext("task " + task.name());
      cancelOthers = true;
    }
  }
  if (cancelOthers) cancel();
  changed_.notify_all();
}

void JobExecution::cancel() {
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
  }
  changed_.notify_all();
  for (auto& task : tasks_) task->cancel();
  for (auto& task : tasks_) {
    if (task->gate()) task->gate()->close();
  }
}

bool JobExecution::done() const {
  std::lock_guard lock(mutex_);
  return stopped_ == static_cast<int>(tasks_.size());
}

bool JobExecution::waitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return stopped_ == static_cast<int>(tasks_.size()); });
}

Status JobExecution::wait() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ == static_cast<int>(tasks_.size()); });
  }
  for (auto& task : tasks_) task->join();
  std::lock_guard lock(mutex_);
  if (!failure_.ok()) return failure_;
  if (cancelled_) return Status::cancelled("job canceled");
  return Status::OK();
}

void JobExecution::triggerCheckpoint(int64_t checkpointId, int64_t timestampMs, const std::string& directory,
                                     const std::vector<std::pair<std::string, int>>& tasks) {
  {
    std::lock_guard lock(mutex_);
    checkpointDirectories_[checkpointId] = directory;
    // Directories of older checkpoints are no longer needed.
    while (checkpointDirectories_.size() > 16) checkpointDirectories_.erase(checkpointDirectories_.begin());
  }
  changed_.notify_all();
  for (const auto& ref : tasks) {
    auto found = tasksByRef_.find(ref);
    if (found != tasksByRef_.end()) found->second->triggerCheckpoint(checkpointId, timestampMs);
  }
}

void JobExecution::drainSources() {
  for (Task* task : sourceTasks_) task->endInput();
}

void JobExecution::notifyCheckpointComplete(int64_t checkpointId) {
  for (auto& task : tasks_) task->notifyCheckpointComplete(checkpointId);
}

Status JobExecution::persistAndAcknowledge(Task& task, TaskCheckpointState& state) {
  namespace fs = std::filesystem;
  const auto syncStart = std::chrono::steady_clock::now();
  const TaskInfo& info = taskInfo_.at(&task);
  std::string directory;
  {
    // A barrier may overtake the trigger message that names the directory.
    std::unique_lock lock(mutex_);
    bool known = changed_.wait_for(lock, std::chrono::seconds(10),
                                   [&] { return cancelled_ || checkpointDirectories_.count(state.checkpointId) > 0; });
    if (!known || cancelled_) {
      return Status::unavailable("no directory for checkpoint " + std::to_string(state.checkpointId));
    }
    directory = checkpointDirectories_.at(state.checkpointId);
  }
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) return Status::ioError("cannot create checkpoint directory '" + directory + "': " + error.message());

  // The synchronous part: each keyed backend captures its state at the cut;
  // the operators' blobs were taken by the task. Everything else (linking and
  // copying files, encoding and writing the blobs, fsync, the acknowledgement)
  // runs on the upload thread while the task goes on.
  auto upload = std::make_shared<PendingUpload>();
  upload->directory = directory;
  upload->report.checkpointId = state.checkpointId;
  upload->report.node = info.node;
  upload->report.subtask = info.subtask;
  upload->report.alignmentMs = state.alignmentMs;
  upload->report.startDelayMs = state.startDelayMs;
  upload->report.state.head = info.node;
  upload->report.state.subtask = info.subtask;
  upload->report.state.finished = state.finished;
  for (OperatorCheckpointState& op : state.operators) {
    PendingUpload::Operator pending;
    pending.handle.node = op.node;
    pending.handle.isSource = op.isSource;
    pending.handle.sourcePosition = op.sourcePosition;
    if (op.keyedState != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(pending.keyedUpload, op.keyedState->beginSnapshot(state.checkpointId, directory));
    }
    pending.snapshot = std::move(op.snapshot);
    upload->operators.push_back(std::move(pending));
  }
  upload->started = std::chrono::steady_clock::now();
  upload->report.syncMs = std::chrono::duration_cast<std::chrono::milliseconds>(upload->started - syncStart).count();
  uploader_->submit([this, upload] {
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;  // the attempt is over; nobody waits for this checkpoint
    }
    Status status = runUpload(*upload);
    // The backends' pinned files are released here, on the upload thread.
    upload->operators.clear();
    if (!status.ok()) {
      logger("worker")->warn("{}[{}] declines checkpoint {}: {}", upload->report.node, upload->report.subtask,
                             upload->report.checkpointId, status.toString());
      CheckpointReport declined;
      declined.checkpointId = upload->report.checkpointId;
      declined.node = upload->report.node;
      declined.subtask = upload->report.subtask;
      declined.declined = status;
      if (checkpointListener_) checkpointListener_(declined);
      return;
    }
    if (checkpointListener_) checkpointListener_(upload->report);
    ignoreError(faultPoint("after-checkpoint-ack"));
  });
  return Status::OK();
}

Status JobExecution::runUpload(PendingUpload& upload) {
  namespace fs = std::filesystem;
  CheckpointReport& report = upload.report;
  const std::string privateName = fs::path(upload.directory).filename().string();
  for (PendingUpload::Operator& op : upload.operators) {
    OperatorStateHandle& handle = op.handle;
    if (op.keyedUpload != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(StateSnapshot snapshot, op.keyedUpload->run());
      report.sizeBytes += snapshot.sizeBytes;
      report.incrementalSizeBytes += snapshot.incrementalSizeBytes;
      handle.keyedState = std::move(snapshot);
      SLUICE_RETURN_NOT_OK(faultPoint("during-snapshot-upload"));
    }
    if (!op.snapshot.blobs.empty()) {
      std::string name = "op-" + op.handle.node + "-" + std::to_string(report.subtask) + ".state";
      std::string bytes = encodeOperatorState(op.snapshot);
      SLUICE_RETURN_NOT_OK(writeFileAtomically(upload.directory + "/" + name, bytes));
      handle.operatorStateFile = privateName + "/" + name;
      handle.operatorStateBytes = static_cast<int64_t>(bytes.size());
      report.sizeBytes += handle.operatorStateBytes;
      report.incrementalSizeBytes += handle.operatorStateBytes;
    }
    report.state.operators.push_back(handle);
  }
  SLUICE_RETURN_NOT_OK(faultPoint("after-snapshot-files"));
  report.asyncMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - upload.started).count();
  return Status::OK();
}

void JobExecution::decline(Task& task, int64_t checkpointId, const Status& reason) {
  const TaskInfo& info = taskInfo_.at(&task);
  CheckpointReport report;
  report.checkpointId = checkpointId;
  report.node = info.node;
  report.subtask = info.subtask;
  report.declined = reason.ok() ? Status::internal("declined") : reason;
  if (checkpointListener_) checkpointListener_(report);
}

ExecutionCounters JobExecution::counters() const {
  ExecutionCounters counters;
  for (const Task* task : sourceTasks_) counters.recordsRead += task->recordsIn();
  for (const Task* task : sinkTasks_) counters.recordsWritten += task->recordsWritten();
  return counters;
}

std::vector<JobExecution::TaskMetrics> JobExecution::metrics() const {
  std::vector<TaskMetrics> out;
  for (const auto& task : tasks_) {
    const TaskInfo& info = taskInfo_.at(task.get());
    out.push_back(TaskMetrics{info.node, info.subtask, task->state(), task->recordsIn(),
                              info.hasSink ? task->recordsWritten() : task->recordsOut(), task->backpressuredNanos(),
                              task->watermarks()});
  }
  return out;
}

std::vector<std::pair<std::string, TaskState>> JobExecution::taskStates() const {
  std::vector<std::pair<std::string, TaskState>> states;
  for (const auto& task : tasks_) states.emplace_back(task->name(), task->state());
  return states;
}

}  // namespace sluice
