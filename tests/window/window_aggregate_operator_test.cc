// Tests of WindowAggregateOperator: window boundaries, slices, sessions,
// lateness, every aggregate, global windows, and snapshot/restore in both backends.
#include "operators/window/window_aggregate_operator.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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

SchemaPtr inputSchema() {
  static SchemaPtr schema =
      makeSchema({{"key", DataType::kInt64}, {"price", DataType::kInt64}, {"t", DataType::kTimestamp}});
  return schema;
}

RecordBatch rows(const std::vector<std::vector<Value>>& values) { return makeBatch(inputSchema(), 2, values); }

std::shared_ptr<const WindowAggregateProgram> compile(WindowSpec window, std::vector<std::string> keyBy = {"key"},
                                                      int64_t lateness = 0,
                                                      std::vector<AggregateCall> aggregates = {{"num", "count()"}}) {
  WindowAggregateOptions options;
  options.keyBy = std::move(keyBy);
  options.window = window;
  options.allowedLateness = lateness;
  options.aggregates = std::move(aggregates);
  auto program = WindowAggregateProgram::compile(inputSchema(), 2, options);
  EXPECT_TRUE(program.ok()) << program.status().toString();
  return *program;
}

/// An operator in a harness, with a hashmap backend when the program is keyed.
class Fixture {
 public:
  explicit Fixture(std::shared_ptr<const WindowAggregateProgram> program, const std::string& backendType = "hashmap",
                   size_t cacheCapacity = WindowAggregateOperator::kDefaultCacheCapacity) {
    OperatorContext context;
    context.nodeId = "w";
    if (program->keyed()) {
      backend_ = makeBackend(backendType, directory_.file("backend"));
      context.keyedStateBackend = backend_.get();
    }
    harness_ =
        std::make_unique<OperatorHarness>(std::make_unique<WindowAggregateOperator>(program, cacheCapacity), context);
    EXPECT_OK(harness_->open());
  }
  OperatorHarness& harness() { return *harness_; }
  KeyedStateBackend* backend() { return backend_.get(); }
  std::vector<std::string> output() const { return rowsOf(harness_->output().batches); }
  std::vector<std::string> late() { return rowsOf(harness_->output().sides["late"]); }

 private:
  TempDir directory_;
  std::unique_ptr<KeyedStateBackend> backend_;
  std::unique_ptr<OperatorHarness> harness_;
};

std::string row(int64_t key, int64_t num, int64_t start, int64_t end) {
  return "key=" + std::to_string(key) + " num=" + std::to_string(num) + " window_start=" + std::to_string(start) +
         " window_end=" + std::to_string(end) + " window_time=" + std::to_string(end - 1);
}

TEST(WindowAggregateOperatorTest, TumblingWindowFiresAtEndMinusOne) {
  Fixture fixture(compile(WindowSpec::tumble(10)));
  // t = start and t = end - 1 are in [0, 10); t = end is in [10, 20).
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{5}, int64_t{0}},
                                                 {int64_t{1}, int64_t{6}, int64_t{9}},
                                                 {int64_t{1}, int64_t{7}, int64_t{10}}})));
  ASSERT_OK(fixture.harness().processWatermark(8));
  EXPECT_TRUE(fixture.output().empty());
  ASSERT_OK(fixture.harness().processWatermark(9));
  EXPECT_EQ(fixture.output(), std::vector<std::string>{row(1, 2, 0, 10)});
  EXPECT_EQ(fixture.harness().output().watermarks, (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(fixture.harness().output().batches.at(0).eventTimeIndex(), 4);
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 2, 0, 10), row(1, 1, 10, 20)}));
}

TEST(WindowAggregateOperatorTest, HoppingWindowsUpdateOneSliceOfGcdSize) {
  // size 10, slide 4: slices of gcd = 2; windows start at multiples of 4.
  Fixture fixture(compile(WindowSpec::hop(10, 4), {"key"}, 0, {{"num", "count()"}, {"total", "sum(price)"}}));
  std::vector<std::vector<Value>> input;
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    input.push_back({int64_t(random() % 3), int64_t(random() % 100), int64_t(random() % 60)});
  }
  ASSERT_OK(fixture.harness().processBatch(rows(input)));
  // State is cached in the operator and written to the backend by snapshotState:
  // one state entry per (key, slice), however many windows a row is in.
  OperatorSnapshot snapshot;
  ASSERT_OK(fixture.harness().snapshot(1, snapshot));
  std::set<std::pair<int64_t, int64_t>> slices;
  for (const auto& values : input) slices.emplace(std::get<int64_t>(values[0]), std::get<int64_t>(values[2]) / 2);
  ASSERT_OK_AND_ASSIGN(int sliceState, fixture.backend()->registerState({"window-slices", StateKind::kMap}));
  size_t entries = 0;
  ASSERT_OK(fixture.backend()->scanAll(sliceState, [&](int, std::string_view, std::string_view, std::string_view) {
    ++entries;
    return true;
  }));
  EXPECT_EQ(entries, slices.size());
  ASSERT_OK(fixture.harness().endInput());

  std::map<std::tuple<int64_t, int64_t>, std::pair<int64_t, int64_t>> expected;  // (key, start) → (count, sum)
  for (const auto& values : input) {
    int64_t t = std::get<int64_t>(values[2]);
    for (int64_t start = (t / 4) * 4; start > t - 10; start -= 4) {
      auto& [count, sum] = expected[{std::get<int64_t>(values[0]), start}];
      ++count;
      sum += std::get<int64_t>(values[1]);
    }
  }
  std::vector<std::string> expectedRows;
  for (const auto& [window, result] : expected) {
    auto [key, start] = window;
    expectedRows.push_back("key=" + std::to_string(key) + " num=" + std::to_string(result.first) +
                           " total=" + std::to_string(result.second) + " window_start=" + std::to_string(start) +
                           " window_end=" + std::to_string(start + 10) + " window_time=" + std::to_string(start + 9));
  }
  std::sort(expectedRows.begin(), expectedRows.end());
  EXPECT_EQ(sortedRowsOf(fixture.harness().output().batches), expectedRows);
  // Every slice is cleaned up once its last window fired, and the timers written by the
  // first snapshot are removed by the next one.
  ASSERT_OK(fixture.harness().snapshot(2, snapshot));
  entries = 0;
  ASSERT_OK(fixture.backend()->scanAll(sliceState, [&](int, std::string_view, std::string_view, std::string_view) {
    ++entries;
    return true;
  }));
  EXPECT_EQ(entries, 0u);
  ASSERT_OK_AND_ASSIGN(int timerState, fixture.backend()->registerState({"window-timers", StateKind::kMap}));
  entries = 0;
  ASSERT_OK(fixture.backend()->scanAll(timerState, [&](int, std::string_view, std::string_view, std::string_view) {
    ++entries;
    return true;
  }));
  EXPECT_EQ(entries, 0u);
}

TEST(WindowAggregateOperatorTest, HopWithSlideLargerThanSizeDropsRowsBetweenWindows) {
  Fixture fixture(compile(WindowSpec::hop(5, 10)));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{0}, int64_t{4}},
                                                 {int64_t{1}, int64_t{0}, int64_t{7}},
                                                 {int64_t{1}, int64_t{0}, int64_t{12}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 1, 0, 5), row(1, 1, 10, 15)}));
  EXPECT_TRUE(fixture.late().empty());
}

TEST(WindowAggregateOperatorTest, SessionsMergeWhenTouchingAtExactlyTheGap) {
  Fixture fixture(compile(WindowSpec::session(10)));
  // 0 and 10 touch ([0,10) and [10,20)); 21 > 20 opens a new session.
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{0}, int64_t{10}},
                                                 {int64_t{1}, int64_t{0}, int64_t{0}},
                                                 {int64_t{1}, int64_t{0}, int64_t{21}},
                                                 {int64_t{2}, int64_t{0}, int64_t{5}}})));
  // Two sessions of key 1 bridged by a later batch: [40,50) and [60,70) joined by 50.
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{0}, int64_t{40}}})));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{0}, int64_t{60}}})));
  ASSERT_OK(fixture.harness().processWatermark(19));
  // Windows fire in the order of their ends.
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(2, 1, 5, 15), row(1, 2, 0, 20)}));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{0}, int64_t{50}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(),
            (std::vector<std::string>{row(2, 1, 5, 15), row(1, 2, 0, 20), row(1, 1, 21, 31), row(1, 3, 40, 70)}));
}

TEST(WindowAggregateOperatorTest, LateRecordsGoToTheLateSideOutput) {
  Fixture fixture(compile(WindowSpec::tumble(10)));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{3}}})));
  ASSERT_OK(fixture.harness().processWatermark(9));
  // t=9 is in the fired window [0,10) (9 + 0 <= 9: late); t=10 is not.
  ASSERT_OK(fixture.harness().processBatch(
      rows({{int64_t{1}, int64_t{2}, int64_t{9}}, {int64_t{1}, int64_t{3}, int64_t{10}}})));
  EXPECT_EQ(fixture.late(), std::vector<std::string>{"key=1 price=2 t=9"});
  EXPECT_EQ(fixture.harness().output().sides["late"].at(0).eventTimeIndex(), 2);
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 1, 0, 10), row(1, 1, 10, 20)}));
}

TEST(WindowAggregateOperatorTest, AllowedLatenessRefiresThenDrops) {
  Fixture fixture(compile(WindowSpec::tumble(10), {"key"}, 5));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{3}}})));
  ASSERT_OK(fixture.harness().processWatermark(9));
  EXPECT_EQ(fixture.output(), std::vector<std::string>{row(1, 1, 0, 10)});
  // Within the lateness (9 + 5 > 13): the window fires again with the update.
  ASSERT_OK(fixture.harness().processWatermark(13));
  ASSERT_OK(fixture.harness().processBatch(
      rows({{int64_t{1}, int64_t{1}, int64_t{4}}, {int64_t{1}, int64_t{1}, int64_t{5}}})));
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 1, 0, 10), row(1, 3, 0, 10)}));
  // At watermark 14 the window is dropped; t=6 is late.
  ASSERT_OK(fixture.harness().processWatermark(14));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{6}}})));
  EXPECT_EQ(fixture.late(), std::vector<std::string>{"key=1 price=1 t=6"});
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output().size(), 2u);
}

TEST(WindowAggregateOperatorTest, SessionLatenessRefiresAndExtends) {
  Fixture fixture(compile(WindowSpec::session(10), {"key"}, 20));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{0}}})));
  ASSERT_OK(fixture.harness().processWatermark(12));
  EXPECT_EQ(fixture.output(), std::vector<std::string>{row(1, 1, 0, 10)});
  // Joins the fired session [0,10): the merged [0,15) fires when the watermark reaches 14.
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{5}}})));
  EXPECT_EQ(fixture.output().size(), 1u);
  ASSERT_OK(fixture.harness().processWatermark(20));
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 1, 0, 10), row(1, 2, 0, 15)}));
  // Joins the fired [0,15) within the lateness: the update is emitted at once.
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{2}}})));
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{row(1, 1, 0, 10), row(1, 2, 0, 15), row(1, 3, 0, 15)}));
  // Past 15 - 1 + 20 the session is gone: a row at 1 is late (its own window [1,11) is past the lateness too).
  ASSERT_OK(fixture.harness().processWatermark(34));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{1}}})));
  EXPECT_EQ(fixture.late(), std::vector<std::string>{"key=1 price=1 t=1"});
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output().size(), 3u);
}

TEST(WindowAggregateOperatorTest, EveryAggregateWithNullsAndExpressions) {
  SchemaPtr schema = makeSchema({{"key", DataType::kString},
                                 {"price", DataType::kInt64},
                                 {"name", DataType::kString},
                                 {"t", DataType::kTimestamp}});
  WindowAggregateOptions options;
  options.keyBy = {"key"};
  options.window = WindowSpec::tumble(100);
  options.aggregates = {
      {"n", "count()"},     {"c", "count(price)"},  {"s", "sum(price)"},           {"lo", "min(price)"},
      {"hi", "max(name)"},  {"a", "avg(price)"},    {"d", "count_distinct(name)"}, {"f", "first(name)"},
      {"l", "last(price)"}, {"e", "sum(price * 2)"}};
  ASSERT_OK_AND_ASSIGN(auto program, WindowAggregateProgram::compile(schema, 3, options));
  Fixture fixture(program, "rocksdb");
  ASSERT_OK(fixture.harness().processBatch(makeBatch(schema, 3,
                                                     {{std::string("k"), int64_t{4}, std::string("x"), int64_t{30}},
                                                      {std::string("k"), Value{}, std::string("y"), int64_t{10}},
                                                      {std::string("k"), int64_t{2}, Value{}, int64_t{20}},
                                                      {std::string("k"), int64_t{6}, std::string("x"), int64_t{40}},
                                                      {std::string("z"), Value{}, Value{}, int64_t{50}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(sortedRowsOf(fixture.harness().output().batches),
            (std::vector<std::string>{
                "key=k n=4 c=3 s=12 lo=2 hi=y a=4 d=2 f=y l=6 e=24 window_start=0 window_end=100 window_time=99",
                "key=z n=1 c=0 s=null lo=null hi=null a=null d=0 f=null l=null e=null window_start=0 window_end=100 "
                "window_time=99"}));
}

TEST(WindowAggregateOperatorTest, GlobalWindowNeedsNoBackendAndKeepsNoKeyColumns) {
  Fixture fixture(compile(WindowSpec::tumble(10), {}, 0, {{"total", "sum(price)"}}));
  ASSERT_OK(fixture.harness().processBatch(rows({{int64_t{1}, int64_t{5}, int64_t{1}},
                                                 {int64_t{2}, int64_t{6}, int64_t{2}},
                                                 {int64_t{3}, int64_t{7}, int64_t{12}}})));
  ASSERT_OK(fixture.harness().endInput());
  EXPECT_EQ(fixture.output(), (std::vector<std::string>{"total=11 window_start=0 window_end=10 window_time=9",
                                                        "total=7 window_start=10 window_end=20 window_time=19"}));
}

TEST(WindowAggregateOperatorTest, KeyedWindowWithoutBackendFailsToOpen) {
  WindowAggregateOperator op(compile(WindowSpec::tumble(10)));
  OperatorContext context;
  context.nodeId = "w";
  Status status = op.open(context);
  EXPECT_EQ(status.message(), "node 'w': a keyed window needs a keyed state backend");
}

/// Checkpoint 1 writes timers and slices; window [0, 10) then fires; checkpoint 2 must
/// no longer hold its timer (a restored operator would fire it again from the slices
/// [2, 10) that later windows still use) nor the slice [0, 2) it dropped.
class WindowCheckpointAfterFiringTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WindowCheckpointAfterFiringTest, RestoreFromTheLaterCheckpointFiresEachWindowOnce) {
  auto program = compile(WindowSpec::hop(10, 2));
  TempDir directory;
  std::unique_ptr<KeyedStateBackend> firstBackend = makeBackend(GetParam(), directory.file("first"));
  OperatorContext context;
  context.nodeId = "w";
  context.keyedStateBackend = firstBackend.get();
  OperatorHarness first(std::make_unique<WindowAggregateOperator>(program), context);
  ASSERT_OK(first.open());
  ASSERT_OK(first.processBatch(rows({{int64_t{1}, int64_t{1}, int64_t{1}},
                                     {int64_t{1}, int64_t{1}, int64_t{5}},
                                     {int64_t{1}, int64_t{1}, int64_t{9}}})));
  OperatorSnapshot snapshot;
  ASSERT_OK(first.snapshot(1, snapshot));
  ASSERT_OK(first.processWatermark(9));
  EXPECT_EQ(sortedRowsOf(first.output().batches),
            (std::vector<std::string>{row(1, 1, -6, 4), row(1, 1, -8, 2), row(1, 2, -2, 8), row(1, 2, -4, 6),
                                      row(1, 3, 0, 10)}));
  ASSERT_OK(first.snapshot(2, snapshot));
  ASSERT_OK_AND_ASSIGN(StateSnapshot stateSnapshot, firstBackend->snapshot(2, directory.file("checkpoints/chk-2")));

  std::unique_ptr<KeyedStateBackend> secondBackend = makeBackend(GetParam(), directory.file("second"));
  ASSERT_OK(secondBackend->restore({stateSnapshot}, directory.file("checkpoints")));
  context.keyedStateBackend = secondBackend.get();
  OperatorHarness second(std::make_unique<WindowAggregateOperator>(program), context);
  ASSERT_OK(second.op().restoreState(snapshot));
  ASSERT_OK(second.open());
  ASSERT_OK(second.processWatermark(9));
  ASSERT_OK(second.endInput());
  EXPECT_EQ(sortedRowsOf(second.output().batches),
            (std::vector<std::string>{row(1, 1, 6, 16), row(1, 1, 8, 18), row(1, 2, 2, 12), row(1, 2, 4, 14)}));
}

INSTANTIATE_TEST_SUITE_P(Backends, WindowCheckpointAfterFiringTest, ::testing::Values("hashmap", "rocksdb"));

/// A disordered stream: (key, price, t) with t increasing by 0..3 and up to 6 back.
std::vector<RecordBatch> randomStream(int batches, std::vector<int64_t>& watermarks) {
  std::mt19937 random(42);
  std::vector<RecordBatch> stream;
  int64_t maxTime = 0;
  for (int b = 0; b < batches; ++b) {
    std::vector<std::vector<Value>> values;
    for (int i = 0; i < 15; ++i) {
      maxTime += random() % 4;
      int64_t t = maxTime - static_cast<int64_t>(random() % 7);
      values.push_back({int64_t(random() % 5), int64_t(random() % 50), t});
    }
    stream.push_back(rows(values));
    // Some rows are late (watermark close behind), exercising the side output across a restore.
    watermarks.push_back(maxTime - 4);
  }
  return stream;
}

struct RestoreCase {
  std::string backend;  // "hashmap" | "rocksdb" | "" (global)
  WindowSpec window;
  size_t cacheCapacity = WindowAggregateOperator::kDefaultCacheCapacity;  // small: state larger than the cache
};

class WindowRestoreTest : public ::testing::TestWithParam<RestoreCase> {};

TEST_P(WindowRestoreTest, RestoredOperatorProducesTheSameOutputAsAnUninterruptedOne) {
  const RestoreCase& param = GetParam();
  std::vector<std::string> keyBy = param.backend.empty() ? std::vector<std::string>{} : std::vector<std::string>{"key"};
  auto program = compile(param.window, keyBy, 3,
                         {{"num", "count()"}, {"total", "sum(price)"}, {"f", "first(price)"}, {"l", "last(price)"}});
  std::vector<int64_t> watermarks;
  std::vector<RecordBatch> stream = randomStream(40, watermarks);
  const std::string backendType = param.backend.empty() ? "hashmap" : param.backend;

  // The reference runs with the default cache and no snapshot.
  Fixture uninterrupted(program, backendType);
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_OK(uninterrupted.harness().processBatch(stream[i]));
    ASSERT_OK(uninterrupted.harness().processWatermark(watermarks[i]));
  }
  ASSERT_OK(uninterrupted.harness().endInput());

  TempDir directory;
  std::unique_ptr<KeyedStateBackend> firstBackend;
  OperatorContext context;
  context.nodeId = "w";
  if (program->keyed()) {
    firstBackend = makeBackend(backendType, directory.file("first"));
    context.keyedStateBackend = firstBackend.get();
  }
  OperatorHarness first(std::make_unique<WindowAggregateOperator>(program, param.cacheCapacity), context);
  ASSERT_OK(first.open());
  const size_t cut = 23;
  for (size_t i = 0; i < cut; ++i) {
    ASSERT_OK(first.processBatch(stream[i]));
    ASSERT_OK(first.processWatermark(watermarks[i]));
    if (i == cut - 2) {
      // An earlier checkpoint: state and timers it wrote that are gone by the next one must not come back.
      OperatorSnapshot earlier;
      ASSERT_OK(first.snapshot(0, earlier));
    }
  }
  ASSERT_OK(first.processBatch(stream[cut]));  // a batch after the last watermark: open windows in state
  OperatorSnapshot snapshot;
  ASSERT_OK(first.snapshot(1, snapshot));
  std::vector<StateSnapshot> stateSnapshots;
  if (firstBackend != nullptr) {
    ASSERT_OK_AND_ASSIGN(StateSnapshot stateSnapshot, firstBackend->snapshot(1, directory.file("checkpoints/chk-1")));
    stateSnapshots.push_back(stateSnapshot);
  }
  ASSERT_OK(first.close());

  std::unique_ptr<KeyedStateBackend> secondBackend;
  if (program->keyed()) {
    secondBackend = makeBackend(backendType, directory.file("second"));
    ASSERT_OK(secondBackend->restore(stateSnapshots, directory.file("checkpoints")));
    context.keyedStateBackend = secondBackend.get();
  }
  OperatorHarness second(std::make_unique<WindowAggregateOperator>(program, param.cacheCapacity), context);
  ASSERT_OK(second.op().restoreState(snapshot));
  ASSERT_OK(second.open());
  ASSERT_OK(second.processWatermark(watermarks[cut]));
  for (size_t i = cut + 1; i < stream.size(); ++i) {
    ASSERT_OK(second.processBatch(stream[i]));
    ASSERT_OK(second.processWatermark(watermarks[i]));
  }
  ASSERT_OK(second.endInput());

  std::vector<RecordBatch> combined = first.output().batches;
  combined.insert(combined.end(), second.output().batches.begin(), second.output().batches.end());
  EXPECT_EQ(sortedRowsOf(combined), sortedRowsOf(uninterrupted.harness().output().batches));
  EXPECT_GE(uninterrupted.harness().output().numRows(), 5);
  std::vector<RecordBatch> late = first.output().sides["late"];
  late.insert(late.end(), second.output().sides["late"].begin(), second.output().sides["late"].end());
  EXPECT_EQ(sortedRowsOf(late), sortedRowsOf(uninterrupted.harness().output().sides["late"]));
}

INSTANTIATE_TEST_SUITE_P(
    Windows, WindowRestoreTest,
    ::testing::Values(RestoreCase{"hashmap", WindowSpec::tumble(10)}, RestoreCase{"rocksdb", WindowSpec::tumble(10)},
                      RestoreCase{"hashmap", WindowSpec::hop(10, 4)}, RestoreCase{"rocksdb", WindowSpec::hop(9, 3)},
                      RestoreCase{"hashmap", WindowSpec::session(5)}, RestoreCase{"rocksdb", WindowSpec::session(5)},
                      RestoreCase{"", WindowSpec::hop(10, 5)}, RestoreCase{"", WindowSpec::session(5)},
                      RestoreCase{"hashmap", WindowSpec::hop(10, 4), 3},
                      RestoreCase{"rocksdb", WindowSpec::hop(9, 3), 2},
                      RestoreCase{"rocksdb", WindowSpec::tumble(10), 1},
                      RestoreCase{"hashmap", WindowSpec::session(5), 2},
                      RestoreCase{"rocksdb", WindowSpec::session(5), 1}, RestoreCase{"", WindowSpec::hop(10, 5), 2}));

}  // namespace
}  // namespace sluice::window
