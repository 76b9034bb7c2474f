// Aligned checkpoint barriers in the InputGate, and a task's snapshot at a barrier.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "runtime/task/local_channel.h"
#include "runtime/task/task.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr valueSchema() { return Schema::make({{"value", DataType::kInt64}}).value(); }

RecordBatch batchOf(int64_t value) {
  RecordBatchBuilder builder(valueSchema(), 1);
  builder.column(0).appendInt64(value);
  return builder.finish();
}

InputGate::Event pollOne(InputGate& gate) {
  auto event = gate.poll(std::chrono::milliseconds(50));
  EXPECT_TRUE(event.has_value());
  return event.value_or(InputGate::Event{InputGate::Event::Kind::kEnd});
}

TEST(BarrierAlignmentTest, ChannelWithBarrierIsBlockedUntilAllChannelsDeliverIt) {
  InputGate gate;
  LocalChannel* first = gate.addChannel(0, 8);
  LocalChannel* second = gate.addChannel(0, 8);
  ASSERT_OK(first->push(CheckpointBarrier{1, 0}));
  ASSERT_OK(first->push(batchOf(10)));   // after the barrier: must wait
  ASSERT_OK(second->push(batchOf(20)));  // before the barrier: flows
  InputGate::Event event = pollOne(gate);
  ASSERT_EQ(event.kind, InputGate::Event::Kind::kBatch);
  EXPECT_EQ(event.batch.column(0)->int64s()[0], 20);
  // Only the blocked channel has data: nothing to report.
  EXPECT_FALSE(gate.poll(std::chrono::milliseconds(20)).has_value());
  ASSERT_OK(second->push(CheckpointBarrier{1, 0}));
  event = pollOne(gate);
  ASSERT_EQ(event.kind, InputGate::Event::Kind::kBarrier);
  EXPECT_EQ(event.barrier.checkpointId, 1);
  event = pollOne(gate);
  ASSERT_EQ(event.kind, InputGate::Event::Kind::kBatch);
  EXPECT_EQ(event.batch.column(0)->int64s()[0], 10);
}

TEST(BarrierAlignmentTest, EndedChannelCompletesAlignment) {
  InputGate gate;
  LocalChannel* first = gate.addChannel(0, 8);
  LocalChannel* second = gate.addChannel(0, 8);
  ASSERT_OK(first->push(CheckpointBarrier{3, 0}));
  ASSERT_OK(second->push(EndOfStream{}));
  bool sawBarrier = false;
  for (int i = 0; i < 3 && !sawBarrier; ++i) {
    auto event = gate.poll(std::chrono::milliseconds(50));
    ASSERT_TRUE(event.has_value());
    sawBarrier = event->kind == InputGate::Event::Kind::kBarrier;
    if (sawBarrier) {
      EXPECT_EQ(event->barrier.checkpointId, 3);
    }
  }
  EXPECT_TRUE(sawBarrier);
}

TEST(BarrierAlignmentTest, NewerBarrierAbandonsOlderAlignmentAndStaleBarriersAreDropped) {
  InputGate gate;
  LocalChannel* first = gate.addChannel(0, 8);
  LocalChannel* second = gate.addChannel(0, 8);
  ASSERT_OK(first->push(CheckpointBarrier{1, 0}));
  ASSERT_OK(first->push(CheckpointBarrier{2, 0}));  // checkpoint 1 was aborted upstream
  ASSERT_OK(second->push(CheckpointBarrier{2, 0}));
  // Channel one is blocked after barrier 1, so barrier 2 on it waits; channel two's barrier 2 abandons 1.
  InputGate::Event event = pollOne(gate);
  while (event.kind != InputGate::Event::Kind::kBarrier) event = pollOne(gate);
  EXPECT_EQ(event.barrier.checkpointId, 2);
  ASSERT_OK(second->push(CheckpointBarrier{1, 0}));  // stale
  ASSERT_OK(second->push(batchOf(5)));
  event = pollOne(gate);
  ASSERT_EQ(event.kind, InputGate::Event::Kind::kBatch);
  EXPECT_EQ(event.batch.column(0)->int64s()[0], 5);
}

/// Collects what a task acknowledges.
class RecordingHandler : public CheckpointHandler {
 public:
  Status persistAndAcknowledge(Task&, TaskCheckpointState& state) override {
    std::lock_guard lock(mutex);
    acknowledged.push_back(state);
    return Status::OK();
  }
  void decline(Task&, int64_t checkpointId, const Status&) override {
    std::lock_guard lock(mutex);
    declined.push_back(checkpointId);
  }
  std::mutex mutex;
  std::vector<TaskCheckpointState> acknowledged;
  std::vector<int64_t> declined;
};

/// Sums its input; the sum is its snapshot.
class SummingOperator : public Operator {
 public:
  explicit SummingOperator(std::atomic<int64_t>* committed) : committed_(committed) {}
  Status processBatch(int, const RecordBatch& batch, Output&) override {
    for (int64_t row = 0; row < batch.numRows(); ++row) sum_ += batch.column(0)->int64s()[row];
    return Status::OK();
  }
  Status snapshotState(int64_t, OperatorSnapshot& snapshot) override {
    snapshot.blobs["sum"] = std::to_string(sum_);
    return Status::OK();
  }
  Status notifyCheckpointComplete(int64_t checkpointId) override {
    committed_->store(checkpointId);
    return Status::OK();
  }

 private:
  int64_t sum_ = 0;
  std::atomic<int64_t>* committed_;
};

TEST(BarrierAlignmentTest, TaskSnapshotsExactlyTheDataBeforeTheBarriersAndWaitsForTheFinalCheckpoint) {
  RecordingHandler handler;
  std::atomic<int64_t> committed{-1};
  TaskParts parts;
  parts.name = "sum[0]";
  parts.gate = std::make_unique<InputGate>();
  LocalChannel* first = parts.gate->addChannel(0, 16);
  LocalChannel* second = parts.gate->addChannel(0, 16);
  auto chained = std::make_unique<ChainedOperator>();
  chained->op = std::make_unique<SummingOperator>(&committed);
  chained->context.nodeId = "sum";
  parts.operators.push_back(std::move(chained));
  parts.checkpointHandler = &handler;
  Task task(std::move(parts));
  std::atomic<int> finishing{0};
  task.start([&](Task&, TaskState state, const Status&) {
    if (state == TaskState::kFinishing) ++finishing;
  });
  ASSERT_OK(first->push(batchOf(1)));
  ASSERT_OK(first->push(CheckpointBarrier{7, 0}));
  ASSERT_OK(first->push(batchOf(100)));  // after the barrier: not in checkpoint 7
  ASSERT_OK(second->push(batchOf(2)));
  ASSERT_OK(second->push(CheckpointBarrier{7, 0}));
  ASSERT_OK(first->push(EndOfStream{}));
  ASSERT_OK(second->push(EndOfStream{}));
  for (int i = 0; i < 200 && finishing.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(finishing.load(), 1);
  EXPECT_EQ(task.state(), TaskState::kFinishing);  // waits for a checkpoint that commits its output
  task.triggerCheckpoint(8, 0);
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(handler.mutex);
      if (handler.acknowledged.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard lock(handler.mutex);
    ASSERT_EQ(handler.acknowledged.size(), 2u);
    EXPECT_EQ(handler.acknowledged[0].checkpointId, 7);
    EXPECT_FALSE(handler.acknowledged[0].finished);
    EXPECT_EQ(handler.acknowledged[0].operators.at(0).snapshot.blobs.at("sum"), "3");
    EXPECT_EQ(handler.acknowledged[1].checkpointId, 8);
    EXPECT_TRUE(handler.acknowledged[1].finished);
    EXPECT_EQ(handler.acknowledged[1].operators.at(0).snapshot.blobs.at("sum"), "103");
  }
  task.notifyCheckpointComplete(7);  // not the final one: keeps waiting
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(committed.load(), 7);
  EXPECT_EQ(task.state(), TaskState::kFinishing);
  task.notifyCheckpointComplete(8);
  task.join();
  EXPECT_EQ(task.state(), TaskState::kFinished);
  EXPECT_EQ(committed.load(), 8);
}

}  // namespace
}  // namespace sluice
