#include "operators/join/stream_join_operator.h"

#include <optional>
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

using Order = std::tuple<int64_t, std::optional<int64_t>, int64_t>;         // oid, customer, ts
using Customer = std::tuple<std::optional<int64_t>, std::string, int64_t>;  // id, name, ts

constexpr const char* kRegularJoin =
    "{on: {left: [customer], right: [id]}, select: {oid: left.oid, name: right.name, t: event_time}}";
constexpr const char* kIntervalJoin =
    "{left_key: customer, right_key: id, lower: -10ms, upper: 20, select: {oid: left.oid, name: right.name}}";

/// Runs over both state backends: the join must behave the same on each.
class StreamJoinOperatorTest : public ::testing::TestWithParam<std::string> {
 protected:
  StreamJoinOperatorTest() : backends_(GetParam()) {
    orders_ = StreamInfo{
        *Schema::make({{"oid", DataType::kInt64}, {"customer", DataType::kInt64}, {"ts", DataType::kTimestamp}}), 2};
    customers_ = StreamInfo{
        *Schema::make({{"id", DataType::kInt64}, {"name", DataType::kString}, {"ts", DataType::kTimestamp}}), 2};
  }

  RecordBatch orders(const std::vector<Order>& rows) {
    RecordBatchBuilder builder(orders_.schema, 2);
    for (const auto& [oid, customer, ts] : rows) {
      builder.column(0).appendInt64(oid);
      if (customer.has_value()) {
        builder.column(1).appendInt64(*customer);
      } else {
        builder.column(1).appendNull();
      }
      builder.column(2).appendInt64(ts);
    }
    return builder.finish();
  }

  RecordBatch customers(const std::vector<Customer>& rows) {
    RecordBatchBuilder builder(customers_.schema, 2);
    for (const auto& [id, name, ts] : rows) {
      if (id.has_value()) {
        builder.column(0).appendInt64(*id);
      } else {
        builder.column(0).appendNull();
      }
      builder.column(1).appendString(name);
      builder.column(2).appendInt64(ts);
    }
    return builder.finish();
  }

  /// A started harness for `yaml` over `backend`.
  std::unique_ptr<OperatorHarness> start(JoinKind kind, const std::string& yaml, KeyedStateBackend* backend) {
    auto node = testing::planJoin(kind, yaml, orders_, customers_);
    EXPECT_TRUE(node.ok()) << node.status().toString();
    if (!node.ok()) return nullptr;
    auto harness = std::make_unique<OperatorHarness>(node->createOperator(), joinContext(backend));
    Status status = harness->open();
    EXPECT_TRUE(status.ok()) << status.toString();
    return harness;
  }

  /// Entries buffered in the backend under map state `name`.
  static int64_t countEntries(KeyedStateBackend& backend, const std::string& name) {
    auto state = backend.registerState({name, StateKind::kMap, std::nullopt});
    EXPECT_TRUE(state.ok());
    int64_t count = 0;
    Status status = backend.scanAll(*state, [&](int, std::string_view, std::string_view, std::string_view) {
      ++count;
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.toString();
    return count;
  }

  BackendFactory backends_;
  StreamInfo orders_;
  StreamInfo customers_;
};

TEST_P(StreamJoinOperatorTest, ManyToManyMatchesEveryPairOnce) {
  auto backend = backends_.open();
  auto harness = start(JoinKind::kRegular, kRegularJoin, backend.get());
  ASSERT_OK(harness->processBatch(orders({{1, 7, 100}, {2, 7, 300}, {3, 8, 50}}), 0));
  ASSERT_OK(harness->processBatch(customers({{7, "ann", 200}, {7, "ann v2", 250}, {9, "nobody", 1}}), 1));
  // Duplicates count: an identical order row arriving twice joins twice.
  ASSERT_OK(harness->processBatch(orders({{4, 7, 10}, {4, 7, 10}}), 0));
  EXPECT_THAT(renderRows(harness->output().batches),
              ElementsAre("oid=1,name=ann v2,t=250", "oid=1,name=ann,t=200", "oid=2,name=ann v2,t=300",
                          "oid=2,name=ann,t=300", "oid=4,name=ann v2,t=250", "oid=4,name=ann v2,t=250",
                          "oid=4,name=ann,t=200", "oid=4,name=ann,t=200"));
  ASSERT_OK(harness->processWatermark(500));
  EXPECT_THAT(harness->output().watermarks, ElementsAre(500));
  EXPECT_EQ(harness->output().batches.back().eventTimeIndex(), 2);
}

TEST_P(StreamJoinOperatorTest, ArrivalOrderDoesNotChangeTheResult) {
  const RecordBatch left = orders({{1, 7, 100}, {2, 7, 300}, {3, 8, 50}});
  const RecordBatch right = customers({{7, "ann", 200}, {8, "bob", 60}, {7, "ann v2", 250}});
  std::vector<std::vector<std::string>> results;
  for (int order = 0; order < 3; ++order) {
    auto backend = backends_.open();
    auto harness = start(JoinKind::kRegular, kRegularJoin, backend.get());
    if (order == 0) {
      ASSERT_OK(harness->processBatch(left, 0));
      ASSERT_OK(harness->processBatch(right, 1));
    } else if (order == 1) {
      ASSERT_OK(harness->processBatch(right, 1));
      ASSERT_OK(harness->processBatch(left, 0));
    } else {
      ASSERT_OK(harness->processBatch(left.slice(0, 1), 0));
      ASSERT_OK(harness->processBatch(right.slice(0, 2), 1));
      ASSERT_OK(harness->processBatch(left.slice(1, 2), 0));
      ASSERT_OK(harness->processBatch(right.slice(2, 1), 1));
    }
    results.push_back(renderRows(harness->output().batches));
  }
  EXPECT_EQ(results[0].size(), 5u);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST_P(StreamJoinOperatorTest, NullKeysNeverMatch) {
  auto backend = backends_.open();
  auto harness = start(JoinKind::kRegular, kRegularJoin, backend.get());
  ASSERT_OK(harness->processBatch(orders({{1, std::nullopt, 100}, {2, 7, 100}}), 0));
  ASSERT_OK(harness->processBatch(customers({{std::nullopt, "ghost", 100}}), 1));
  ASSERT_OK(harness->processBatch(orders({{3, std::nullopt, 100}}), 0));
  EXPECT_EQ(harness->output().numRows(), 0);
  EXPECT_EQ(countEntries(*backend, "join-left"), 1);
  EXPECT_EQ(countEntries(*backend, "join-right"), 0);
}

TEST_P(StreamJoinOperatorTest, ExpiredRowsNeverJoin) {
  auto backend = backends_.open();
  backend->setCurrentTime(1000);
  auto harness =
      start(JoinKind::kRegular,
            "{on: {left: [customer], right: [id]}, ttl: 1s, select: {oid: left.oid, name: right.name}}", backend.get());
  ASSERT_OK(harness->processBatch(orders({{1, 7, 0}}), 0));
  backend->setCurrentTime(1900);
  ASSERT_OK(harness->processBatch(customers({{7, "ann", 0}}), 1));  // order 1 still alive
  backend->setCurrentTime(2500);                                    // order 1 expired at 2000; ann expires at 2900
  ASSERT_OK(harness->processBatch(customers({{7, "ann v2", 0}}), 1));
  ASSERT_OK(harness->processBatch(orders({{2, 7, 0}}), 0));
  backend->setCurrentTime(4000);  // everything expired
  ASSERT_OK(harness->processBatch(orders({{3, 7, 0}}), 0));
  EXPECT_THAT(renderRows(harness->output().batches),
              ElementsAre("oid=1,name=ann", "oid=2,name=ann", "oid=2,name=ann v2"));
}

TEST_P(StreamJoinOperatorTest, IntervalBoundsAreInclusive) {
  // left.t BETWEEN right.t - 10 AND right.t + 20, right row at 100: left rows 90..120 match.
  const RecordBatch left = orders({{89, 7, 89}, {90, 7, 90}, {100, 7, 100}, {120, 7, 120}, {121, 7, 121}});
  const RecordBatch right = customers({{7, "ann", 100}});
  for (bool leftFirst : {true, false}) {
    auto backend = backends_.open();
    auto harness = start(JoinKind::kInterval, kIntervalJoin, backend.get());
    ASSERT_OK(harness->processBatch(leftFirst ? left : right, leftFirst ? 0 : 1));
    ASSERT_OK(harness->processBatch(leftFirst ? right : left, leftFirst ? 1 : 0));
    EXPECT_THAT(renderRows(harness->output().batches),
                ElementsAre("oid=100,name=ann", "oid=120,name=ann", "oid=90,name=ann"))
        << "left first: " << leftFirst;
  }
}

TEST_P(StreamJoinOperatorTest, IntervalJoinDropsStateTheWatermarkPassed) {
  auto backend = backends_.open();
  auto harness = start(JoinKind::kInterval, kIntervalJoin, backend.get());
  ASSERT_OK(harness->processBatch(customers({{7, "ann", 100}, {7, "bob", 200}}), 1));
  ASSERT_OK(harness->processBatch(orders({{50, 7, 50}, {195, 7, 195}}), 0));
  EXPECT_THAT(renderRows(harness->output().batches), ElementsAre("oid=195,name=bob"));
  // Right rows stay until right.t + upper < watermark; left rows until left.t - lower < watermark.
  ASSERT_OK(harness->processWatermark(120));
  EXPECT_EQ(countEntries(*backend, "join-right"), 2);
  ASSERT_OK(harness->processWatermark(121));
  EXPECT_EQ(countEntries(*backend, "join-right"), 1);
  EXPECT_EQ(countEntries(*backend, "join-left"), 1);  // 195 - (-10) = 205 >= 121
  // 190 still meets bob; 119 is older than the watermark: late, neither joined nor buffered.
  ASSERT_OK(harness->processBatch(orders({{190, 7, 190}, {119, 7, 119}}), 0));
  EXPECT_EQ(harness->output().numRows(), 2);
  EXPECT_EQ(countEntries(*backend, "join-left"), 2);
  ASSERT_OK(harness->processBatch(orders({{220, 7, 220}}), 0));
  EXPECT_EQ(harness->output().numRows(), 3);
  ASSERT_OK(harness->endInput());
  EXPECT_EQ(countEntries(*backend, "join-right"), 0);
  EXPECT_EQ(countEntries(*backend, "join-left"), 0);
}

TEST_P(StreamJoinOperatorTest, RestoredInstanceGivesIdenticalResults) {
  for (JoinKind kind : {JoinKind::kRegular, JoinKind::kInterval}) {
    const std::string yaml = kind == JoinKind::kRegular ? kRegularJoin : kIntervalJoin;
    const std::vector<std::pair<RecordBatch, int>> before = {{orders({{1, 7, 100}, {2, 8, 105}}), 0},
                                                             {customers({{7, "ann", 95}}), 1}};
    const std::vector<std::pair<RecordBatch, int>> after = {{customers({{8, "bob", 110}, {7, "ann v2", 115}}), 1},
                                                            {orders({{3, 7, 118}}), 0}};

    auto reference = backends_.open();
    auto uninterrupted = start(kind, yaml, reference.get());
    for (const auto& [batch, input] : before) ASSERT_OK(uninterrupted->processBatch(batch, input));
    ASSERT_OK(uninterrupted->processWatermark(90));
    for (const auto& [batch, input] : after) ASSERT_OK(uninterrupted->processBatch(batch, input));
    ASSERT_OK(uninterrupted->endInput());

    auto first = backends_.open();
    auto beforeFailure = start(kind, yaml, first.get());
    for (const auto& [batch, input] : before) ASSERT_OK(beforeFailure->processBatch(batch, input));
    ASSERT_OK(beforeFailure->processWatermark(90));
    OperatorSnapshot snapshot;
    ASSERT_OK(beforeFailure->snapshot(1, snapshot));
    auto restoredBackend = backends_.snapshotAndRestore(*first, {0, testing::kTestMaxParallelism - 1}, 1);
    ASSERT_NE(restoredBackend, nullptr);
    auto node = testing::planJoin(kind, yaml, orders_, customers_);
    ASSERT_OK(node.status());
    auto restoredOperator = node->createOperator();
    ASSERT_OK(restoredOperator->restoreState(snapshot));
    OperatorHarness afterFailure(std::move(restoredOperator), joinContext(restoredBackend.get()));
    ASSERT_OK(afterFailure.open());
    for (const auto& [batch, input] : after) ASSERT_OK(afterFailure.processBatch(batch, input));
    ASSERT_OK(afterFailure.endInput());

    std::vector<RecordBatch> combined = beforeFailure->output().batches;
    for (const RecordBatch& batch : afterFailure.output().batches) combined.push_back(batch);
    EXPECT_THAT(renderRows(uninterrupted->output().batches), ::testing::Not(IsEmpty()));
    EXPECT_EQ(renderRows(combined), renderRows(uninterrupted->output().batches)) << joinKindName(kind);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StreamJoinOperatorTest, ::testing::Values("hashmap", "rocksdb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sluice
