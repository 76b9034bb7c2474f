// Tests of RecordWriter's buffering policy: which batches are merged, which go out
// as they are (without a copy), and that every row arrives once and in order.
#include "runtime/task/record_writer.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

SchemaPtr valueSchema() { return Schema::make({{"value", DataType::kInt64}}).value(); }

/// `rows` consecutive values starting at `first`.
RecordBatch makeBatch(int64_t first, int64_t rows) {
  RecordBatchBuilder builder(valueSchema(), static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) builder.column(0).appendInt64(first + i);
  return builder.finish();
}

/// Records what a writer sends, in order.
class RecordingChannel : public OutputChannel {
 public:
  Status push(StreamElement element) override {
    elements.push_back(std::move(element));
    return Status::OK();
  }
  std::vector<int64_t> values() const {
    std::vector<int64_t> out;
    for (const auto& element : elements) {
      const auto* batch = std::get_if<RecordBatch>(&element);
      if (batch == nullptr) continue;
      const int64_t* data = batch->column(0)->int64s();
      out.insert(out.end(), data, data + batch->numRows());
    }
    return out;
  }
  std::vector<StreamElement> elements;
};

RecordWriter::Options rebalanceOptions(int64_t targetRows) {
  RecordWriter::Options options;
  options.partitioning = {PartitionKind::kRebalance, {}};
  options.targetRows = targetRows;
  options.bufferTimeout = std::chrono::milliseconds(1000);
  return options;
}

TEST(RecordWriterTest, BatchOfHalfTheTargetGoesOutWithoutACopy) {
  RecordingChannel channel;
  RecordWriter writer(rebalanceOptions(100), {&channel});
  RecordBatch batch = makeBatch(0, 50);
  const int64_t* original = batch.column(0)->int64s();
  ASSERT_OK(writer.write(batch));
  ASSERT_EQ(channel.elements.size(), 1u);
  const auto& sent = std::get<RecordBatch>(channel.elements[0]);
  EXPECT_EQ(sent.numRows(), 50);
  EXPECT_EQ(sent.column(0)->int64s(), original) << "a large enough batch must not be copied";
}

TEST(RecordWriterTest, SmallBatchesAreMergedUntilTheTarget) {
  RecordingChannel channel;
  RecordWriter writer(rebalanceOptions(100), {&channel});
  for (int i = 0; i < 4; ++i) ASSERT_OK(writer.write(makeBatch(i * 30, 30)));
  // 30 + 30 + 30 + 30 >= 100: one merged batch of 120 rows.
  ASSERT_EQ(channel.elements.size(), 1u);
  EXPECT_EQ(std::get<RecordBatch>(channel.elements[0]).numRows(), 120);
  ASSERT_OK(writer.write(makeBatch(120, 10)));
  EXPECT_EQ(channel.elements.size(), 1u) << "a small batch waits for more rows";
  ASSERT_OK(writer.flush());
  ASSERT_EQ(channel.elements.size(), 2u);
  std::vector<int64_t> expected(130);
  for (int64_t i = 0; i < 130; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(channel.values(), expected);
}

TEST(RecordWriterTest, LargeBatchAfterPendingRowsKeepsTheOrder) {
  RecordingChannel channel;
  RecordWriter writer(rebalanceOptions(100), {&channel});
  ASSERT_OK(writer.write(makeBatch(0, 10)));
  ASSERT_OK(writer.write(makeBatch(10, 60)));  // finds 10 rows pending: merged behind them
  ASSERT_OK(writer.write(makeBatch(70, 80)));
  ASSERT_OK(writer.flush());
  std::vector<int64_t> expected(150);
  for (int64_t i = 0; i < 150; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(channel.values(), expected);
  EXPECT_EQ(writer.recordsOut(), 150);
}

TEST(RecordWriterTest, RebalanceSendsWholeBatchesRoundRobin) {
  RecordingChannel first;
  RecordingChannel second;
  RecordWriter writer(rebalanceOptions(100), {&first, &second});
  for (int i = 0; i < 4; ++i) ASSERT_OK(writer.write(makeBatch(i * 60, 60)));
  ASSERT_EQ(first.elements.size(), 2u);
  ASSERT_EQ(second.elements.size(), 2u);
  EXPECT_EQ(first.values().front(), 0);
  EXPECT_EQ(second.values().front(), 60);
}

// Watermarks are in band: rows written after a watermark must not overtake it
// (a row that is late behind it downstream would otherwise count as on time).
TEST(RecordWriterTest, AWatermarkStaysBetweenTheRowsWrittenBeforeAndAfterIt) {
  RecordingChannel channel;
  RecordWriter writer(rebalanceOptions(100), {&channel});
  ASSERT_OK(writer.write(makeBatch(0, 10)));
  ASSERT_OK(writer.broadcast(Watermark{5}));
  ASSERT_OK(writer.write(makeBatch(10, 10)));
  ASSERT_OK(writer.flush());
  ASSERT_EQ(channel.elements.size(), 3u);
  EXPECT_EQ(std::get<RecordBatch>(channel.elements[0]).numRows(), 10);
  EXPECT_EQ(std::get<Watermark>(channel.elements[1]).timestamp, 5);
  EXPECT_EQ(std::get<RecordBatch>(channel.elements[2]).numRows(), 10);
}

}  // namespace
}  // namespace sluice
