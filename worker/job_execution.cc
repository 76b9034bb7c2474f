#include "worker/job_execution.h"

#include <map>

#include "runtime/base/logging.h"
#include "runtime/data/key_group.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/transport/data_plane.h"

namespace sluice {

uint64_t JobExecution::jobKeyOf(const std::string& jobId) { return hashBytes(jobId); }

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
        if (node.planned.role == NodeRole::kSource) {
          task.reader = node.planned.createReader(subtask, node.parallelism);
          if (!task.reader) return Status::internal("source '" + node.planned.id + "' created no reader");
          task.readerContext = context;
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
          op->context = context;
          routers[{member, subtask}] = &op->output;
          chained[{member, subtask}] = op.get();
          task.operators.push_back(std::move(op));
        }
      }
      if (headNode.planned.role != NodeRole::kSource) task.gate = std::make_unique<InputGate>();
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
  if (state == TaskState::kRunning || state == TaskState::kCreated) return;
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

ExecutionCounters JobExecution::counters() const {
  ExecutionCounters counters;
  for (const Task* task : sourceTasks_) counters.recordsRead += task->recordsIn();
  for (const Task* task : sinkTasks_) counters.recordsWritten += task->recordsWritten();
  return counters;
}

std::vector<std::pair<std::string, TaskState>> JobExecution::taskStates() const {
  std::vector<std::pair<std::string, TaskState>> states;
  for (const auto& task : tasks_) states.emplace_back(task->name(), task->state());
  return states;
}

}  // namespace sluice
