// Tests of WindowTopNOperator: ties, limits, both window modes, null ordering,
// late rows, and snapshot/restore (keyed in rocksdb, global in the blob).
#include "operators/window/window_top_n_operator.h"

#include <gtest/gtest.h>

#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/window/batch_rows.h"

namespace sluice::window {
namespace {

using sluice::testing::OperatorHarness;
using sluice::testing::TempDir;
using testing::makeBackend;
using testing::makeBatch;
using testing::makeSchema;
using testing::rowsOf;
using testing::sortedRowsOf;
using testing::Value;

/// The output of a window node: (auction, num, window_start, window_end, window_time).
SchemaPtr countsSchema() {
  static SchemaPtr schema = makeSchema({{"auction", DataType::kInt64},
                                        {"num", DataType::kInt64},
                                        {"window_start", DataType::kTimestamp},
                                        {"window_end", DataType::kTimestamp},
                                        {"window_time", DataType::kTimestamp}});
  return schema;
}

RecordBatch counts(const std::vector<std::pair<int64_t, int64_t>>& auctionNums, int64_t start, int64_t end) {
  std::vector<std::vector<Value>> values;
  for (const auto& [auction, num] : auctionNums) values.push_back({auction, num, start, end, end - 1});
  return makeBatch(countsSchema(), 4, values);
}

SchemaPtr bidsSchema() {
  static SchemaPtr schema =
      makeSchema({{"auction", DataType::kInt64}, {"price", DataType::kInt64}, {"t", DataType::kTimestamp}});
  return schema;
}

std::shared_ptr<const WindowTopNProgram> compile(const SchemaPtr& schema, int eventTimeIndex,
                                                 WindowTopNOptions options) {
  auto program = WindowTopNProgram::compile(schema, eventTimeIndex, options);
  EXPECT_TRUE(program.ok()) << program.status().toString();
  return *program;
}

class Fixture {
 public:
  explicit Fixture(std::shared_ptr<const WindowTopNProgram> program, const std::string& backendType = "hashmap") {
    OperatorContext context;
    context.nodeId = "top";
    if (program->keyed()) {
      backend_ = makeBackend(backendType, directory_.file("backend"));
      context.keyedStateBackend = backend_.get();
    }
    harness_ = std::make_unique<OperatorHarness>(std::make_unique<WindowTopNOperator>(program), context);
    EXPECT_OK(harness_->open());
  }
  OperatorHarness& harness() { return *harness_; }
  std::vector<std::string> output() const { return rowsOf(harness_->output().batches); }

 private:
  TempDir directory_;
  std::unique_ptr<KeyedStateBackend> backend_;
  std::unique_ptr<OperatorHarness> harness_;
};

std::string countRow(int64_t auction, int64_t num, int64_t start, int64_t end) {
  return "auction=" + std::to_string(auction) + " num=" + std::to_string(num) +
         " window_start=" + std::to_string(start) + " window_end=" + std::to_string(end) +
         " window_time=" + std::to_string(end - 1);
}

WindowTopNOptions topByNum(int64_t limit, bool withTies) {
  WindowTopNOptions options;
  options.orderBy = {{"num", true}};
  options.limit = limit;
  options.withTies = withTies;
  return options;
}

TEST(WindowTopNOperatorTest, KeepsEveryTiedRowAcrossBatches) {
  auto program = compile(countsSchema(), 4, topByNum(1, true));
  EXPECT_EQ(program->hashColumns(), std::vector<int>{2});  // ranked per window_start
  Fixture fixture(program);
  ASSERT_OK(fixture.harness().processBatch(counts({{1, 3}, {3, 1}}, 0, 10)));
  ASSERT_OK(fixture.harness().processBatch(counts({{2, 3}, {4, 2}}, 0, 10)));
  ASSERT_OK(fixture.harness().processBatch(counts({{5, 1}}, 10, 20)));
  ASSERT_OK(fixture.harness().processWatermark(9));
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{countRow(1, 3, 0, 10), countRow(2, 3, 0, 10)}));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output().back(), countRow(5, 1, 10, 20));
  EXPECT_EQ(fixture.harness().output().batches.at(0).eventTimeIndex(), 4);
}

TEST(WindowTopNOperatorTest, WithoutTiesKeepsTheFirstArrivalsAndLimitCountsRows) {
  Fixture first(compile(countsSchema(), 4, topByNum(1, false)));
  ASSERT_OK(first.harness().processBatch(counts({{1, 3}, {3, 1}}, 0, 10)));
  ASSERT_OK(first.harness().processBatch(counts({{2, 3}}, 0, 10)));
  ASSERT_OK(first.harness().endInput());
  EXPECT_EQ(first.output(), std::vector<std::string>{countRow(1, 3, 0, 10)});

  Fixture two(compile(countsSchema(), 4, topByNum(2, true)), "rocksdb");
  ASSERT_OK(two.harness().processBatch(counts({{1, 5}, {2, 3}, {3, 1}, {4, 3}}, 0, 10)));
  ASSERT_OK(two.harness().endInput());
  EXPECT_EQ(two.output(),
            (std::vector<std::string>{countRow(1, 5, 0, 10), countRow(2, 3, 0, 10), countRow(4, 3, 0, 10)}));
}

TEST(WindowTopNOperatorTest, AssignsTumblingWindowsAndPutsNullsLastWhenDescending) {
  WindowTopNOptions options;
  options.orderBy = {{"price", true}};
  options.window = WindowSpec::tumble(10);
  auto program = compile(bidsSchema(), 2, options);
  EXPECT_FALSE(program->keyed());
  Fixture fixture(program);
  ASSERT_OK(fixture.harness().processBatch(makeBatch(bidsSchema(), 2,
                                                     {{int64_t{1}, Value{}, int64_t{1}},
                                                      {int64_t{2}, int64_t{7}, int64_t{9}},
                                                      {int64_t{3}, int64_t{9}, int64_t{10}},
                                                      {int64_t{4}, int64_t{7}, int64_t{0}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(),
            (std::vector<std::string>{"auction=2 price=7 t=9 window_start=0 window_end=10 window_time=9",
                                      "auction=4 price=7 t=0 window_start=0 window_end=10 window_time=9",
                                      "auction=3 price=9 t=10 window_start=10 window_end=20 window_time=19"}));
}

TEST(WindowTopNOperatorTest, HoppingWindowsRankEachWindow) {
  WindowTopNOptions options;
  options.orderBy = {{"price", false}};  // the cheapest
  options.partitionBy = {"auction"};
  options.window = WindowSpec::hop(10, 5);
  auto program = compile(bidsSchema(), 2, options);
  EXPECT_EQ(program->hashColumns(), std::vector<int>{0});
  Fixture fixture(program, "rocksdb");
  ASSERT_OK(fixture.harness().processBatch(
      makeBatch(bidsSchema(), 2, {{int64_t{1}, int64_t{4}, int64_t{3}}, {int64_t{1}, int64_t{2}, int64_t{7}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(sortedRowsOf(fixture.harness().output().batches),
            (std::vector<std::string>{"auction=1 price=2 t=7 window_start=0 window_end=10 window_time=9",
                                      "auction=1 price=2 t=7 window_start=5 window_end=15 window_time=14",
                                      "auction=1 price=4 t=3 window_start=-5 window_end=5 window_time=4"}));
}

TEST(WindowTopNOperatorTest, RowsOfClosedWindowsAreLate) {
  Fixture fixture(compile(countsSchema(), 4, topByNum(1, true)));
  ASSERT_OK(fixture.harness().processWatermark(9));
  ASSERT_OK(fixture.harness().processBatch(counts({{1, 3}}, 0, 10)));
  ASSERT_OK(fixture.harness().processBatch(counts({{2, 3}}, 10, 20)));
  EXPECT_EQ(rowsOf(fixture.harness().output().sides["late"]), std::vector<std::string>{countRow(1, 3, 0, 10)});
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(), std::vector<std::string>{countRow(2, 3, 10, 20)});
}

TEST(WindowTopNOperatorTest, InputWithoutWindowColumnsNeedsAWindowOption) {
  WindowTopNOptions options;
  options.orderBy = {{"price", true}};
  auto program = WindowTopNProgram::compile(bidsSchema(), 2, options);
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().message(),
            "the input has no timestamp columns window_start and window_end (the output of a window node); give "
            "'window:' to assign windows (fields: auction, price, t)");
  WindowTopNOptions bad;
  bad.orderBy = {{"prize", true}};
  bad.window = WindowSpec::tumble(10);
  EXPECT_EQ(WindowTopNProgram::compile(bidsSchema(), 2, bad).status().message(),
            "order_by: unknown field 'prize' (fields: auction, price, t)");
}

class WindowTopNRestoreTest : public ::testing::TestWithParam<bool> {};

TEST_P(WindowTopNRestoreTest, RestoredOperatorEmitsTheSameRows) {
  const bool keyed = GetParam();
  WindowTopNOptions options;
  options.orderBy = {{"price", true}};
  options.limit = 2;
  options.window = WindowSpec::tumble(10);
  if (keyed) options.partitionBy = {"auction"};
  auto program = compile(bidsSchema(), 2, options);
  std::vector<RecordBatch> stream;
  for (int b = 0; b < 10; ++b) {
    std::vector<std::vector<Value>> values;
    for (int i = 0; i < 10; ++i) {
      values.push_back({int64_t((b * 7 + i) % 3), int64_t((b * 13 + i * 5) % 11), int64_t(b * 4 + i % 5)});
    }
    stream.push_back(makeBatch(bidsSchema(), 2, values));
  }
  Fixture uninterrupted(program, "rocksdb");
  for (int b = 0; b < 10; ++b) {
    ASSERT_OK(uninterrupted.harness().processBatch(stream[b]));
    ASSERT_OK(uninterrupted.harness().processWatermark(b * 4 - 2));
  }
  ASSERT_OK(uninterrupted.harness().endInput());

  TempDir directory;
  OperatorContext context;
  std::unique_ptr<KeyedStateBackend> firstBackend, secondBackend;
  if (keyed) {
    firstBackend = makeBackend("rocksdb", directory.file("first"));
    context.keyedStateBackend = firstBackend.get();
  }
  OperatorHarness first(std::make_unique<WindowTopNOperator>(program), context);
  ASSERT_OK(first.open());
  for (int b = 0; b < 5; ++b) {
    ASSERT_OK(first.processBatch(stream[b]));
    ASSERT_OK(first.processWatermark(b * 4 - 2));
  }
  OperatorSnapshot snapshot;
  ASSERT_OK(first.snapshot(3, snapshot));
  std::vector<StateSnapshot> stateSnapshots;
  if (keyed) {
    ASSERT_OK_AND_ASSIGN(StateSnapshot stateSnapshot, firstBackend->snapshot(3, directory.file("chk/chk-3")));
    stateSnapshots.push_back(stateSnapshot);
    secondBackend = makeBackend("hashmap", directory.file("second"));
    // Restoring a rocksdb snapshot into a hashmap backend is supported by the state module.
    ASSERT_OK(secondBackend->restore(stateSnapshots, directory.file("chk")));
    context.keyedStateBackend = secondBackend.get();
  } else {
    EXPECT_EQ(snapshot.blobs.count("window-state"), 1u);
  }
  OperatorHarness second(std::make_unique<WindowTopNOperator>(program), context);
  ASSERT_OK(second.op().restoreState(snapshot));
  ASSERT_OK(second.open());
  for (int b = 5; b < 10; ++b) {
    ASSERT_OK(second.processBatch(stream[b]));
    ASSERT_OK(second.processWatermark(b * 4 - 2));
  }
  ASSERT_OK(second.endInput());
  std::vector<RecordBatch> combined = first.output().batches;
  combined.insert(combined.end(), second.output().batches.begin(), second.output().batches.end());
  EXPECT_EQ(sortedRowsOf(combined), sortedRowsOf(uninterrupted.harness().output().batches));
  EXPECT_GE(uninterrupted.harness().output().numRows(), 8);
}

INSTANTIATE_TEST_SUITE_P(Modes, WindowTopNRestoreTest, ::testing::Bool());

}  // namespace
}  // namespace sluice::window
