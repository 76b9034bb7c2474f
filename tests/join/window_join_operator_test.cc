#include "operators/join/window_join_operator.h"

#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/join/join_test_support.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using testing::BackendFactory;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::joinContext;
using testing::OperatorHarness;
using testing::renderRows;

constexpr const char* kTumbling =
    "{on: {left: [customer], right: [id]}, window: {tumble: 10ms},"
    " select: {oid: left.oid, name: right.name, ws: window_start, we: window_end, t: event_time}}";

/// Runs over both state backends: the join must behave the same on each.
class WindowJoinOperatorTest : public ::testing::TestWithParam<std::string> {
 protected:
  WindowJoinOperatorTest() : backends_(GetParam()) {
    orders_ = StreamInfo{
        *Schema::make({{"oid", DataType::kInt64}, {"customer", DataType::kInt64}, {"ts", DataType::kTimestamp}}), 2};
    customers_ = StreamInfo{
        *Schema::make({{"id", DataType::kInt64}, {"name", DataType::kString}, {"ts", DataType::kTimestamp}}), 2};
    backend_ = backends_.open();
  }

  RecordBatch orders(const std::vector<std::tuple<int64_t, int64_t, int64_t>>& rows) {
    RecordBatchBuilder builder(orders_.schema, 2);
    for (const auto& [oid, customer, ts] : rows) {
      builder.column(0).appendInt64(oid);
      builder.column(1).appendInt64(customer);
      builder.column(2).appendInt64(ts);
    }
    return builder.finish();
  }

  RecordBatch customers(const std::vector<std::tuple<int64_t, std::string, int64_t>>& rows) {
    RecordBatchBuilder builder(customers_.schema, 2);
    for (const auto& [id, name, ts] : rows) {
      builder.column(0).appendInt64(id);
      builder.column(1).appendString(name);
      builder.column(2).appendInt64(ts);
    }
    return builder.finish();
  }

  std::unique_ptr<Operator> create(const std::string& yaml) {
    auto node = testing::planJoin(JoinKind::kWindow, yaml, orders_, customers_);
    EXPECT_TRUE(node.ok()) << node.status().toString();
    return node.ok() ? node->createOperator() : nullptr;
  }

  /// The operator with a bound on the rows it buffers in memory.
  std::unique_ptr<Operator> create(const std::string& yaml, size_t maxBufferedRows) {
    NodeSpec spec;
    spec.id = "j";
    spec.options = YAML::Load(yaml);
    auto options = parseJoinOptions(spec, JoinKind::kWindow);
    EXPECT_TRUE(options.ok()) << options.status().toString();
    if (!options.ok()) return nullptr;
    auto plan = JoinPlan::make(*options, orders_, customers_);
    EXPECT_TRUE(plan.ok()) << plan.status().toString();
    return plan.ok() ? std::make_unique<WindowJoinOperator>(*plan, maxBufferedRows) : nullptr;
  }

  std::unique_ptr<OperatorHarness> start(const std::string& yaml, KeyedStateBackend* backend) {
    auto harness = std::make_unique<OperatorHarness>(create(yaml), joinContext(backend));
    Status status = harness->open();
    EXPECT_TRUE(status.ok()) << status.toString();
    return harness;
  }

  int64_t countEntries() {
    int64_t count = 0;
    for (const char* name : {"window-join-left", "window-join-right"}) {
      auto state = backend_->registerState({name, StateKind::kMap, std::nullopt});
      EXPECT_TRUE(state.ok());
      Status status = backend_->scanAll(*state, [&](int, std::string_view, std::string_view, std::string_view) {
        ++count;
        return true;
      });
      EXPECT_TRUE(status.ok()) << status.toString();
    }
    return count;
  }

  BackendFactory backends_;
  StreamInfo orders_;
  StreamInfo customers_;
  std::unique_ptr<KeyedStateBackend> backend_;
};

TEST_P(WindowJoinOperatorTest, FiresWhenTheWatermarkReachesEndMinusOne) {
  auto harness = start(kTumbling, backend_.get());
  ASSERT_OK(harness->processBatch(orders({{1, 7, 9}, {2, 7, 10}, {3, 8, 9}}), 0));
  ASSERT_OK(harness->processBatch(customers({{7, "a", 9}, {7, "b", 10}, {7, "c", 0}}), 1));
  ASSERT_OK(harness->processWatermark(8));
  EXPECT_EQ(harness->output().numRows(), 0);
  ASSERT_OK(harness->processWatermark(9));
  EXPECT_THAT(renderRows(harness->output().batches),
              ElementsAre("oid=1,name=a,ws=0,we=10,t=9", "oid=1,name=c,ws=0,we=10,t=9"));
  EXPECT_EQ(harness->output().batches[0].eventTimeIndex(), 4);
  ASSERT_OK(harness->processWatermark(18));
  EXPECT_EQ(harness->output().numRows(), 2);
  ASSERT_OK(harness->processWatermark(19));
  EXPECT_EQ(harness->output().numRows(), 3);
  EXPECT_THAT(harness->output().watermarks, ElementsAre(8, 9, 18, 19));
  EXPECT_EQ(countEntries(), 0);  // fired windows leave no state
}

TEST_P(WindowJoinOperatorTest, RowsOfFiredWindowsAreLate) {
  auto harness = start(kTumbling, backend_.get());
  ASSERT_OK(harness->processBatch(customers({{7, "a", 3}}), 1));
  ASSERT_OK(harness->processWatermark(9));
  ASSERT_OK(harness->processBatch(orders({{1, 7, 5}, {2, 7, 12}}), 0));
  ASSERT_OK(harness->processBatch(customers({{7, "b", 5}, {7, "c", 19}}), 1));
  ASSERT_OK(harness->endInput());
  EXPECT_THAT(renderRows(harness->output().batches), ElementsAre("oid=2,name=c,ws=10,we=20,t=19"));
}

TEST_P(WindowJoinOperatorTest, DistinctKeepsOneCopyPerKeyAndWindow) {
  const std::string select = "select: {customer: left.customer, name: right.name, ws: window_start}}";
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"", 6}, {"distinct: left,", 2}, {"distinct: [left, right],", 1}};
  for (const auto& [distinct, expectedRows] : cases) {
    auto backend = backends_.open();
    auto harness =
        start("{on: {left: [customer], right: [id]}, window: {tumble: 10ms}, " + distinct + select, backend.get());
    // Orders differ in fields the join does not keep, so they are equal after projection.
    ASSERT_OK(harness->processBatch(orders({{1, 7, 1}, {2, 7, 2}}), 0));
    ASSERT_OK(harness->processBatch(orders({{3, 7, 3}}), 0));
    ASSERT_OK(harness->processBatch(customers({{7, "a", 4}, {7, "a", 5}}), 1));
    ASSERT_OK(harness->endInput());
    EXPECT_EQ(harness->output().numRows(), static_cast<int64_t>(expectedRows)) << distinct;
  }
}

TEST_P(WindowJoinOperatorTest, HoppingWindowsJoinInEveryCommonWindow) {
  auto harness = start(
      "{on: {left: [customer], right: [id]}, window: {hop: 10ms, slide: 5ms},"
      " select: {oid: left.oid, name: right.name, ws: window_start}}",
      backend_.get());
  ASSERT_OK(harness->processBatch(orders({{1, 7, 7}, {2, 7, 12}}), 0));
  ASSERT_OK(harness->processBatch(customers({{7, "a", 7}}), 1));
  ASSERT_OK(harness->endInput());
  EXPECT_THAT(renderRows(harness->output().batches),
              ElementsAre("oid=1,name=a,ws=0", "oid=1,name=a,ws=5", "oid=2,name=a,ws=5"));
}

TEST_P(WindowJoinOperatorTest, RestoredInstanceFiresPendingWindows) {
  auto uninterruptedBackend = backends_.open();
  auto uninterrupted = start(kTumbling, uninterruptedBackend.get());
  auto beforeFailure = start(kTumbling, backend_.get());
  for (OperatorHarness* harness : {uninterrupted.get(), beforeFailure.get()}) {
    ASSERT_OK(harness->processBatch(orders({{1, 7, 3}, {2, 7, 13}, {3, 8, 25}}), 0));
    ASSERT_OK(harness->processBatch(customers({{7, "a", 5}, {8, "b", 21}}), 1));
    ASSERT_OK(harness->processWatermark(9));
  }
  EXPECT_EQ(beforeFailure->output().numRows(), 1);
  OperatorSnapshot snapshot;
  ASSERT_OK(beforeFailure->snapshot(1, snapshot));
  auto restoredBackend = backends_.snapshotAndRestore(*backend_, {0, testing::kTestMaxParallelism - 1}, 1);
  ASSERT_NE(restoredBackend, nullptr);
  auto restored = create(kTumbling);
  ASSERT_OK(restored->restoreState(snapshot));
  OperatorHarness afterFailure(std::move(restored), joinContext(restoredBackend.get()));
  ASSERT_OK(afterFailure.open());
  for (OperatorHarness* harness : {uninterrupted.get(), &afterFailure}) {
    ASSERT_OK(harness->processBatch(customers({{7, "c", 11}}), 1));
    ASSERT_OK(harness->endInput());
  }
  std::vector<RecordBatch> combined = beforeFailure->output().batches;
  for (const RecordBatch& batch : afterFailure.output().batches) combined.push_back(batch);
  EXPECT_THAT(
      renderRows(uninterrupted->output().batches),
      ElementsAre("oid=1,name=a,ws=0,we=10,t=9", "oid=2,name=c,ws=10,we=20,t=19", "oid=3,name=b,ws=20,we=30,t=29"));
  EXPECT_EQ(renderRows(combined), renderRows(uninterrupted->output().batches));
}

TEST_P(WindowJoinOperatorTest, BufferedEvictedAndStoredRowsJoinAlikeAcrossARestore) {
  // Rows of one window arrive before and after a snapshot (buffered, then written behind), with
  // duplicates; a bound of 1 buffered row evicts every batch to the backend (written through after).
  const std::string yaml =
      "{on: {left: [customer], right: [id]}, window: {tumble: 10ms}, distinct: right,"
      " select: {oid: left.oid, name: right.name, ws: window_start}}";
  for (size_t bound : {WindowJoinOperator::kDefaultMaxBufferedRows, size_t{1}}) {
    auto uninterruptedBackend = backends_.open();
    auto beforeBackend = backends_.open();
    OperatorHarness uninterrupted(create(yaml, bound), joinContext(uninterruptedBackend.get()));
    OperatorHarness before(create(yaml, bound), joinContext(beforeBackend.get()));
    for (OperatorHarness* harness : {&uninterrupted, &before}) {
      ASSERT_OK(harness->open());
      ASSERT_OK(harness->processBatch(orders({{1, 7, 3}, {1, 7, 3}, {2, 8, 4}}), 0));
      ASSERT_OK(harness->processBatch(customers({{7, "a", 5}, {7, "a", 6}, {9, "z", 1}}), 1));
    }
    OperatorSnapshot snapshot;
    ASSERT_OK(before.snapshot(1, snapshot));
    auto restoredBackend = backends_.snapshotAndRestore(*beforeBackend, {0, testing::kTestMaxParallelism - 1}, 1);
    ASSERT_NE(restoredBackend, nullptr);
    auto restoredOperator = create(yaml, bound);
    ASSERT_OK(restoredOperator->restoreState(snapshot));
    OperatorHarness after(std::move(restoredOperator), joinContext(restoredBackend.get()));
    ASSERT_OK(after.open());
    for (OperatorHarness* harness : {&uninterrupted, &after}) {
      ASSERT_OK(harness->processBatch(orders({{1, 7, 8}, {3, 8, 9}, {4, 7, 12}}), 0));
      ASSERT_OK(harness->processBatch(customers({{7, "a", 7}, {8, "b", 2}, {7, "c", 15}}), 1));
      ASSERT_OK(harness->endInput());
    }
    // Order 1 came three times (no distinct on the left), customer 7 "a" three times (distinct).
    EXPECT_THAT(renderRows(uninterrupted.output().batches),
                ElementsAre("oid=1,name=a,ws=0", "oid=1,name=a,ws=0", "oid=1,name=a,ws=0", "oid=2,name=b,ws=0",
                            "oid=3,name=b,ws=0", "oid=4,name=c,ws=10"))
        << bound;
    EXPECT_EQ(renderRows(after.output().batches), renderRows(uninterrupted.output().batches)) << bound;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, WindowJoinOperatorTest, ::testing::Values("hashmap", "rocksdb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sluice
