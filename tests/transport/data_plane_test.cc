#include "runtime/transport/data_plane.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/status_matchers.h"

namespace sluice::transport {
namespace {

SchemaPtr numberSchema() { return Schema::make({{"n", DataType::kInt64}}).value(); }

RecordBatch numbers(int64_t from, int64_t count) {
  RecordBatchBuilder builder(numberSchema());
  for (int64_t i = 0; i < count; ++i) builder.column(0).appendInt64(from + i);
  return builder.finish();
}

/// Reads every batch of one gate until end of input; returns the numbers in order.
std::vector<int64_t> drain(InputGate& gate, std::chrono::milliseconds pause = std::chrono::milliseconds(0)) {
  std::vector<int64_t> seen;
  while (true) {
    auto event = gate.poll(std::chrono::seconds(10));
    if (!event) {
      ADD_FAILURE() << "timed out waiting for data";
      return seen;
    }
    if (event->kind == InputGate::Event::Kind::kEnd) return seen;
    if (event->kind == InputGate::Event::Kind::kBatch) {
      for (int64_t i = 0; i < event->batch.numRows(); ++i) seen.push_back(event->batch.column(0)->int64s()[i]);
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }
}

class DataPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(sender_, DataPlane::start("127.0.0.1", 0));
    ASSERT_OK_AND_ASSIGN(receiver_, DataPlane::start("127.0.0.1", 0));
  }
  std::unique_ptr<DataPlane> sender_;
  std::unique_ptr<DataPlane> receiver_;
};

TEST_F(DataPlaneTest, DeliversEveryBatchInOrderWithinCredit) {
  InputGate gate;
  constexpr uint32_t kCredits = 2;
  ChannelKey key{7, 1, 3};
  receiver_->registerInput(key, gate.addChannel(0, kCredits));
  auto output = sender_->openOutput(receiver_->endpoint(), key, kCredits);
  std::thread producer([&] {
    for (int i = 0; i < 500; ++i) ASSERT_OK(output->push(numbers(i * 10, 10)));
    ASSERT_OK(output->push(Watermark{42}));
    ASSERT_OK(output->push(EndOfStream{}));
  });
  auto seen = drain(gate);
  producer.join();
  ASSERT_EQ(seen.size(), 5000u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<int64_t>(i));
}

TEST_F(DataPlaneTest, ElementsSentBeforeRegistrationAreKeptInOrder) {
  ChannelKey key{1, 0, 0};
  auto output = sender_->openOutput(receiver_->endpoint(), key, 4);
  ASSERT_OK(output->push(numbers(0, 3)));
  ASSERT_OK(output->push(numbers(3, 3)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  InputGate gate;
  receiver_->registerInput(key, gate.addChannel(0, 4));
  std::thread producer([&] {
    for (int i = 2; i < 20; ++i) ASSERT_OK(output->push(numbers(i * 3, 3)));
    ASSERT_OK(output->push(EndOfStream{}));
  });
  auto seen = drain(gate);
  producer.join();
  ASSERT_EQ(seen.size(), 60u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<int64_t>(i));
}

TEST_F(DataPlaneTest, SlowChannelDoesNotBlockAnotherOnTheSameConnection) {
  InputGate slowGate;
  InputGate fastGate;
  ChannelKey slowKey{9, 0, 1};
  ChannelKey fastKey{9, 0, 2};
  receiver_->registerInput(slowKey, slowGate.addChannel(0, 1));
  receiver_->registerInput(fastKey, fastGate.addChannel(0, 1));
  auto slowOut = sender_->openOutput(receiver_->endpoint(), slowKey, 1);
  auto fastOut = sender_->openOutput(receiver_->endpoint(), fastKey, 1);
  // Nobody reads the slow channel yet: its sender runs out of credit and waits.
  std::thread slowProducer([&] {
    for (int i = 0; i < 10; ++i) ASSERT_OK(slowOut->push(numbers(i, 1)));
    ASSERT_OK(slowOut->push(EndOfStream{}));
  });
  std::thread fastProducer([&] {
    for (int i = 0; i < 200; ++i) ASSERT_OK(fastOut->push(numbers(i, 1)));
    ASSERT_OK(fastOut->push(EndOfStream{}));
  });
  EXPECT_EQ(drain(fastGate).size(), 200u);  // completes while the slow channel is stalled
  fastProducer.join();
  EXPECT_EQ(drain(slowGate).size(), 10u);
  slowProducer.join();
}

TEST_F(DataPlaneTest, CloseJobReleasesBlockedSenderAndDropsStaleMessages) {
  ChannelKey key{5, 1, 0};
  auto output = sender_->openOutput(receiver_->endpoint(), key, 1);
  ASSERT_OK(output->push(numbers(0, 1)));  // uses the only credit; nobody grants more
  Status blocked;
  std::thread producer([&] { blocked = output->push(numbers(1, 1)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  sender_->closeJob(5, 1);
  producer.join();
  EXPECT_EQ(blocked.code(), StatusCode::kCancelled);

  // The receiver moved on to attempt 2: messages of attempt 1 are dropped.
  receiver_->closeJob(5, 1);
  ChannelKey stale{5, 1, 1};
  auto staleOutput = sender_->openOutput(receiver_->endpoint(), stale, 4);
  ASSERT_OK(staleOutput->push(numbers(0, 1)));
  for (int i = 0; i < 100 && receiver_->droppedMessages() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(receiver_->droppedMessages(), 1);
}

TEST_F(DataPlaneTest, CorruptMessageIsDroppedNotDelivered) {
  // A raw DEALER that sends garbage to the receiver's data endpoint.
  ChannelKey key{3, 0, 0};
  InputGate gate;
  receiver_->registerInput(key, gate.addChannel(0, 4));
  auto output = sender_->openOutput(receiver_->endpoint(), key, 4);
  ASSERT_OK(output->push(numbers(0, 5)));
  ASSERT_OK(output->push(EndOfStream{}));
  auto seen = drain(gate);
  EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
}  // namespace sluice::transport
