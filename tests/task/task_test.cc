#include "runtime/task/task.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr keyValueSchema() { return Schema::make({{"key", DataType::kInt64}, {"ts", DataType::kTimestamp}}).value(); }

/// Emits `rows` rows in batches of `batchSize`, key = row % 10, ts = row.
class CountingReader : public SourceReader {
 public:
  CountingReader(int64_t rows, int64_t batchSize) : rows_(rows), batchSize_(batchSize) {}
  Status open(const OperatorContext&) override { return Status::OK(); }
  Result<bool> pollNext(Output& out) override {
    if (next_ >= rows_) return false;
    RecordBatchBuilder builder(keyValueSchema(), 1);
    int64_t end = std::min(rows_, next_ + batchSize_);
    for (; next_ < end; ++next_) {
      builder.column(0).appendInt64(next_ % 10);
      builder.column(1).appendInt64(next_);
    }
    SLUICE_RETURN_NOT_OK(out.emit(builder.finish()));
    SLUICE_RETURN_NOT_OK(out.emitWatermark(next_ - 1));
    return next_ < rows_;
  }
  int64_t recordsRead() const override { return next_; }

 private:
  int64_t rows_;
  int64_t batchSize_;
  int64_t next_ = 0;
};

/// Records everything into shared vectors; checks watermarks never decrease.
class RecordingSink : public Operator {
 public:
  struct Shared {
    std::mutex mutex;
    std::vector<int64_t> keys;
    std::vector<int> subtasks;
    bool finished = false;
    bool watermarkWentBack = false;
    std::map<int, int64_t> lastWatermark;  // per subtask
    bool sawMaxWatermarkBeforeFinish = false;
  };
  explicit RecordingSink(Shared* shared) : shared_(shared) {}
  Status open(const OperatorContext& context) override {
    subtask_ = context.subtaskIndex;
    return Status::OK();
  }
  Status processBatch(int, const RecordBatch& batch, Output&) override {
    std::lock_guard lock(shared_->mutex);
    for (int64_t i = 0; i < batch.numRows(); ++i) {
      shared_->keys.push_back(batch.column(0)->int64s()[i]);
      shared_->subtasks.push_back(subtask_);
    }
    return Status::OK();
  }
  Status processWatermark(int64_t timestamp, Output&) override {
    std::lock_guard lock(shared_->mutex);
    auto [entry, inserted] = shared_->lastWatermark.emplace(subtask_, timestamp);
    if (!inserted && timestamp < entry->second) shared_->watermarkWentBack = true;
    entry->second = timestamp;
    return Status::OK();
  }
  Status finish(Output&) override {
    std::lock_guard lock(shared_->mutex);
    shared_->finished = true;
    shared_->sawMaxWatermarkBeforeFinish = shared_->lastWatermark[subtask_] == kMaxWatermark;
    return Status::OK();
  }

 private:
  Shared* shared_;
  int subtask_ = 0;
};

class FailingOperator : public Operator {
 public:
  Status processBatch(int, const RecordBatch&, Output&) override { throw std::runtime_error("boom"); }
};

struct Pipeline {
  std::vector<std::unique_ptr<Task>> tasks;
  void runToEnd() {
    for (auto& task : tasks) task->start(nullptr);
    for (auto& task : tasks) task->join();
  }
};

/// Builds `sources` source tasks feeding `sinks` sink tasks through `partitioning`.
Pipeline buildPipeline(int sources, int sinks, InputPartitioning partitioning, RecordingSink::Shared* shared,
                       int64_t rowsPerSource, size_t capacity = 2) {
  Pipeline pipeline;
  std::vector<Task*> sinkTasks;
  std::vector<std::unique_ptr<Task>> sinkOwners;
  for (int s = 0; s < sinks; ++s) {
    TaskParts parts;
    parts.name = "sink[" + std::to_string(s) + "]";
    parts.gate = std::make_unique<InputGate>();
    auto chained = std::make_unique<ChainedOperator>();
    chained->op = std::make_unique<RecordingSink>(shared);
    chained->context.subtaskIndex = s;
    chained->context.parallelism = sinks;
    parts.operators.push_back(std::move(chained));
    sinkOwners.push_back(std::make_unique<Task>(std::move(parts)));
  }
  for (int p = 0; p < sources; ++p) {
    std::vector<OutputChannel*> channels;
    for (auto& sink : sinkOwners) channels.push_back(sink->gate()->addChannel(0, capacity));
    TaskParts parts;
    parts.name = "source[" + std::to_string(p) + "]";
    parts.reader = std::make_unique<CountingReader>(rowsPerSource, 7);
    parts.readerOutput = std::make_unique<OutputRouter>();
    RecordWriter::Options options;
    options.partitioning = partitioning;
    options.producerSubtask = p;
    options.targetRows = 16;
    parts.writers.push_back(std::make_unique<RecordWriter>(options, channels));
    parts.readerOutput->addWriter("", parts.writers.back().get());
    pipeline.tasks.push_back(std::make_unique<Task>(std::move(parts)));
  }
  for (auto& sink : sinkOwners) pipeline.tasks.push_back(std::move(sink));
  return pipeline;
}

TEST(TaskTest, HashExchangeDeliversEveryRecordToItsKeyOwner) {
  RecordingSink::Shared shared;
  InputPartitioning hash{PartitionKind::kHash, {0}};
  Pipeline pipeline = buildPipeline(3, 4, hash, &shared, 1000);
  pipeline.runToEnd();
  for (auto& task : pipeline.tasks) EXPECT_EQ(task->state(), TaskState::kFinished) << task->name();
  ASSERT_EQ(shared.keys.size(), 3000u);
  std::map<int64_t, std::set<int>> ownersPerKey;
  for (size_t i = 0; i < shared.keys.size(); ++i) ownersPerKey[shared.keys[i]].insert(shared.subtasks[i]);
  EXPECT_EQ(ownersPerKey.size(), 10u);
  for (const auto& [key, owners] : ownersPerKey) EXPECT_EQ(owners.size(), 1u) << "key " << key;
  EXPECT_TRUE(shared.finished);
  EXPECT_FALSE(shared.watermarkWentBack);
  EXPECT_TRUE(shared.sawMaxWatermarkBeforeFinish);
}

TEST(TaskTest, BroadcastAndRebalance) {
  RecordingSink::Shared broadcast;
  Pipeline first = buildPipeline(2, 3, {PartitionKind::kBroadcast, {}}, &broadcast, 100);
  first.runToEnd();
  EXPECT_EQ(broadcast.keys.size(), 600u);
  RecordingSink::Shared rebalance;
  Pipeline second = buildPipeline(2, 3, {PartitionKind::kRebalance, {}}, &rebalance, 500);
  second.runToEnd();
  EXPECT_EQ(rebalance.keys.size(), 1000u);
  std::set<int> used(rebalance.subtasks.begin(), rebalance.subtasks.end());
  EXPECT_EQ(used.size(), 3u);
}

TEST(TaskTest, TinyChannelCapacityBackpressuresWithoutLoss) {
  RecordingSink::Shared shared;
  Pipeline pipeline = buildPipeline(4, 1, {PartitionKind::kRebalance, {}}, &shared, 5000, 1);
  pipeline.runToEnd();
  EXPECT_EQ(shared.keys.size(), 20000u);
}

TEST(TaskTest, ExceptionInOperatorFailsTaskWithMessage) {
  TaskParts parts;
  parts.name = "failing[0]";
  parts.gate = std::make_unique<InputGate>();
  LocalChannel* channel = parts.gate->addChannel(0, 4);
  auto chained = std::make_unique<ChainedOperator>();
  chained->op = std::make_unique<FailingOperator>();
  parts.operators.push_back(std::move(chained));
  Task task(std::move(parts));
  Status failure;
  task.start([&](Task&, TaskState state, const Status& status) {
    if (state == TaskState::kFailed) failure = status;
  });
  RecordBatchBuilder builder(keyValueSchema(), 1);
  builder.column(0).appendInt64(1);
  builder.column(1).appendInt64(1);
  ASSERT_OK(channel->push(builder.finish()));
  task.join();
  EXPECT_EQ(task.state(), TaskState::kFailed);
  EXPECT_EQ(failure.code(), StatusCode::kUserCodeError);
  EXPECT_NE(failure.message().find("boom"), std::string::npos);
}

TEST(TaskTest, CancelStopsAnIdleTask) {
  TaskParts parts;
  parts.name = "idle[0]";
  parts.gate = std::make_unique<InputGate>();
  parts.gate->addChannel(0, 4);
  RecordingSink::Shared shared;
  auto chained = std::make_unique<ChainedOperator>();
  chained->op = std::make_unique<RecordingSink>(&shared);
  parts.operators.push_back(std::move(chained));
  Task task(std::move(parts));
  task.start(nullptr);
  task.cancel();
  task.join();
  EXPECT_EQ(task.state(), TaskState::kCanceled);
}

TEST(InputGateTest, WatermarkIsMinimumOverChannels) {
  InputGate gate;
  LocalChannel* first = gate.addChannel(0, 8);
  LocalChannel* second = gate.addChannel(0, 8);
  ASSERT_OK(first->push(Watermark{100}));
  auto event = gate.poll(std::chrono::milliseconds(10));
  EXPECT_FALSE(event.has_value());  // second channel still at -inf
  ASSERT_OK(second->push(Watermark{50}));
  event = gate.poll(std::chrono::milliseconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, InputGate::Event::Kind::kWatermark);
  EXPECT_EQ(event->timestamp, 50);
  ASSERT_OK(second->push(EndOfStream{}));
  event = gate.poll(std::chrono::milliseconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->timestamp, 100);
  ASSERT_OK(first->push(EndOfStream{}));
  event = gate.poll(std::chrono::milliseconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->timestamp, kMaxWatermark);
  event = gate.poll(std::chrono::milliseconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, InputGate::Event::Kind::kEnd);
}

TEST(InputGateTest, CloseReleasesBlockedProducer) {
  InputGate gate;
  LocalChannel* channel = gate.addChannel(0, 1);
  ASSERT_OK(channel->push(Watermark{1}));
  std::thread producer([&] { EXPECT_EQ(channel->push(Watermark{2}).code(), StatusCode::kCancelled); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  gate.close();
  producer.join();
}

}  // namespace
}  // namespace sluice
