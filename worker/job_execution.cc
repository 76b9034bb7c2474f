#include "worker/job_execution.h"

#include <map>

#include "runtime/base/logging.h"

namespace sluice {

Result<std::unique_ptr<JobExecution>> JobExecution::create(const JobGraph& graph, const ExecutionOptions& options) {
  std::unique_ptr<JobExecution> execution(new JobExecution());
  execution->options_ = options;

  // Parts of every task, keyed by (chain head, subtask).
  std::map<std::pair<int, int>, TaskParts> parts;
  // Where each (node, subtask) lives: its output router and operator.
  std::map<std::pair<int, int>, OutputRouter*> routers;
  std::map<std::pair<int, int>, ChainedOperator*> chained;

  for (int head : graph.chainHeads()) {
    const GraphNode& headNode = graph.node(head);
    for (int subtask = 0; subtask < headNode.parallelism; ++subtask) {
      TaskParts& task = parts[{head, subtask}];
      task.name = headNode.planned.id + "[" + std::to_string(subtask) + "]";
      task.bufferTimeout = options.bufferTimeout;
      for (int member : graph.chainMembers(head)) {
        const GraphNode& node = graph.node(member);
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
          auto op = std::make_unique<ChainedOperator>();
          op->op = node.planned.createOperator();
          if (!op->op) return Status::internal("node '" + node.planned.id + "' created no operator");
          op->context = context;
          routers[{member, subtask}] = &op->output;
          chained[{member, subtask}] = op.get();
          task.operators.push_back(std::move(op));
        }
      }
      if (!headNode.planned.createReader || headNode.planned.role != NodeRole::kSource) {
        task.gate = std::make_unique<InputGate>();
      }
    }
  }

  for (size_t e = 0; e < graph.edges().size(); ++e) {
    const GraphEdge& edge = graph.edges()[e];
    const GraphNode& upstream = graph.node(edge.upstream);
    const GraphNode& downstream = graph.node(edge.downstream);
    if (downstream.chainedInput == static_cast<int>(e)) {
      for (int subtask = 0; subtask < downstream.parallelism; ++subtask) {
        ChainedOperator* next = chained[{edge.downstream, subtask}];
        routers[{edge.upstream, subtask}]->addChained(edge.tag, next->op.get(), &next->output, edge.input);
      }
      continue;
    }
    // A network-style edge: every upstream subtask gets one channel into every
    // downstream subtask's gate.
    std::vector<std::vector<OutputChannel*>> channelsPerProducer(upstream.parallelism);
    for (int consumer = 0; consumer < downstream.parallelism; ++consumer) {
      InputGate* gate = parts[{edge.downstream, consumer}].gate.get();
      for (int producer = 0; producer < upstream.parallelism; ++producer) {
        channelsPerProducer[producer].push_back(gate->addChannel(edge.input, options.channelCapacity));
      }
    }
    for (int producer = 0; producer < upstream.parallelism; ++producer) {
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
    bool hasSink = false;
    for (int member : graph.chainMembers(key.first)) hasSink |= graph.node(member).planned.role == NodeRole::kSink;
    auto task = std::make_unique<Task>(std::move(taskParts));
    if (isSource) execution->sourceTasks_.push_back(task.get());
    if (hasSink) execution->sinkTasks_.push_back(task.get());
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
