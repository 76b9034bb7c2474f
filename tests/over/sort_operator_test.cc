// Tests of EventTimeSortBuffer and SortOperator: order and tie-breaks, chunking,
// late rows, snapshot/restore (global and keyed, both backends), parallelism.
#include "operators/over/sort_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "runtime/data/key_group.h"
#include "tests/over/over_test_rows.h"
#include "tests/testing/status_matchers.h"

namespace sluice::over {
namespace {

using testing::makeBatch;
using testing::makeSchema;
using testing::rowsOf;
using testing::sortedRowsOf;
using testing::Subtask;
using testing::timesOf;
using testing::Value;

SchemaPtr schema() {
  static SchemaPtr schema = makeSchema(
      {{"key", DataType::kInt64}, {"kind", DataType::kInt64}, {"id", DataType::kInt64}, {"ts", DataType::kTimestamp}});
  return schema;
}

RecordBatch rows(const std::vector<std::vector<Value>>& values) { return makeBatch(schema(), 3, values); }

std::vector<Value> row(int64_t key, int64_t kind, int64_t id, int64_t ts) { return {key, kind, id, ts}; }

std::shared_ptr<const SortProgram> compile(std::vector<std::string> keyBy, std::vector<std::string> orderBy) {
  auto program = SortProgram::compile(schema(), 3, SortOptions{std::move(keyBy), std::move(orderBy)});
  EXPECT_OK(program.status());
  return *program;
}

Subtask::Factory factory(std::shared_ptr<const SortProgram> program) {
  return [program] { return std::make_unique<SortOperator>(program); };
}

std::string text(int64_t key, int64_t kind, int64_t id, int64_t ts) {
  return "key=" + std::to_string(key) + " kind=" + std::to_string(kind) + " id=" + std::to_string(id) +
         " ts=" + std::to_string(ts);
}

TEST(SortOperatorTest, ReleasesRowsUpToTheWatermarkInTimeThenTieBreakOrder) {
  Subtask task(factory(compile({}, {"ts", "kind", "id"})), "");
  ASSERT_OK(task.harness().processBatch(
      rows({row(1, 2, 7, 20), row(1, 2, 5, 10), row(1, 0, 9, 10), row(1, 1, 3, 10), row(1, 0, 1, 30)})));
  ASSERT_OK(task.harness().processWatermark(9));
  EXPECT_TRUE(rowsOf(task.output()).empty());
  ASSERT_OK(task.harness().processWatermark(20));  // ts <= watermark is released
  EXPECT_EQ(rowsOf(task.output()),
            (std::vector<std::string>{text(1, 0, 9, 10), text(1, 1, 3, 10), text(1, 2, 5, 10), text(1, 2, 7, 20)}));
  EXPECT_EQ(task.harness().output().watermarks, (std::vector<int64_t>{9, 20}));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(rowsOf(task.output()).back(), text(1, 0, 1, 30));
  EXPECT_EQ(task.output().back().eventTimeIndex(), 3);
}

TEST(SortOperatorTest, WithoutTieBreaksEqualTimesKeepArrivalOrder) {
  Subtask task(factory(compile({}, {})), "");
  ASSERT_OK(task.harness().processBatch(rows({row(1, 0, 3, 5), row(1, 0, 1, 5)})));
  ASSERT_OK(task.harness().processBatch(rows({row(1, 0, 2, 5), row(1, 0, 0, 4)})));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(rowsOf(task.output()),
            (std::vector<std::string>{text(1, 0, 0, 4), text(1, 0, 3, 5), text(1, 0, 1, 5), text(1, 0, 2, 5)}));
}

TEST(SortOperatorTest, RowsAtOrBehindTheWatermarkGoToTheLateOutput) {
  Subtask task(factory(compile({}, {})), "");
  ASSERT_OK(task.harness().processWatermark(10));
  ASSERT_OK(task.harness().processBatch(rows({row(1, 0, 1, 10), row(1, 0, 2, 11), row(1, 0, 3, 3)})));
  EXPECT_EQ(rowsOf(task.late()), (std::vector<std::string>{text(1, 0, 1, 10), text(1, 0, 3, 3)}));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(rowsOf(task.output()), (std::vector<std::string>{text(1, 0, 2, 11)}));
}

TEST(SortOperatorTest, BufferChunksNeverSplitEqualTimes) {
  EventTimeSortBuffer buffer(schema(), 3, {});
  std::vector<std::vector<Value>> input;
  for (int i = 0; i < 10; ++i) input.push_back(row(0, 0, i, i < 3 ? 1 : 2));
  buffer.add(rows(input));
  EXPECT_EQ(buffer.minTime(), 1);
  EXPECT_EQ(buffer.release(1, 2).numRows(), 3);  // three rows at t = 1
  EXPECT_EQ(buffer.release(5, 2).numRows(), 7);  // seven at t = 2
  EXPECT_EQ(buffer.release(5, 2).numRows(), 0);
  EXPECT_TRUE(buffer.empty());
}

/// Rows with disorder up to `bound`, for `keys` keys; ids are unique.
std::vector<std::vector<Value>> shuffledInput(int count, int keys, int64_t bound, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<std::vector<Value>> input;
  for (int i = 0; i < count; ++i) {
    const int64_t ts = i * 3 + static_cast<int64_t>(random() % bound);
    input.push_back(row(random() % keys, random() % 3, i, ts));
  }
  return input;
}

/// Feeds `input` in batches of `batchSize`, each followed by the watermark maxTs - bound - 1.
void feed(const std::vector<std::vector<Value>>& input, int64_t bound, size_t batchSize,
          const std::function<void(const RecordBatch&, int64_t watermark, size_t batchIndex)>& send) {
  int64_t maxTs = 0;
  for (size_t begin = 0, index = 0; begin < input.size(); begin += batchSize, ++index) {
    std::vector<std::vector<Value>> part(input.begin() + begin,
                                         input.begin() + std::min(input.size(), begin + batchSize));
    for (const auto& values : part) maxTs = std::max(maxTs, std::get<int64_t>(values[3]));
    send(rows(part), maxTs - bound - 1, index);
  }
}

std::vector<std::string> expectedSorted(std::vector<std::vector<Value>> input) {
  std::stable_sort(input.begin(), input.end(), [](const auto& a, const auto& b) {
    auto key = [](const auto& v) {
      return std::make_tuple(std::get<int64_t>(v[3]), std::get<int64_t>(v[1]), std::get<int64_t>(v[2]));
    };
    return key(a) < key(b);
  });
  std::vector<std::string> texts;
  for (const auto& v : input) {
    texts.push_back(
        text(std::get<int64_t>(v[0]), std::get<int64_t>(v[1]), std::get<int64_t>(v[2]), std::get<int64_t>(v[3])));
  }
  return texts;
}

TEST(SortOperatorTest, GlobalSortSurvivesSnapshotAndRestoreWithPendingRows) {
  auto input = shuffledInput(600, 5, 40, 11);
  Subtask task(factory(compile({}, {"ts", "kind", "id"})), "");
  feed(input, 40, 50, [&](const RecordBatch& batch, int64_t watermark, size_t index) {
    ASSERT_OK(task.harness().processBatch(batch));
    if (index == 4) task.restart(1);  // rows beyond the watermark are pending here
    ASSERT_OK(task.harness().processWatermark(watermark));
    if (index == 7) task.restart(2);
  });
  ASSERT_OK(task.harness().endInput());
  EXPECT_TRUE(task.late().empty());
  EXPECT_EQ(rowsOf(task.output()), expectedSorted(input));
}

class KeyedSortTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KeyedSortTest, RestoredAndParallelRunsMatchOneSubtask) {
  auto input = shuffledInput(900, 40, 30, 5);
  auto program = compile({"key"}, {"ts", "kind", "id"});

  Subtask single(factory(program), GetParam());
  // Three subtasks owning the key-group ranges of parallelism 3; each restarts mid-stream.
  std::vector<std::unique_ptr<Subtask>> parallel;
  for (int subtask = 0; subtask < 3; ++subtask) {
    KeyGroupRange range = KeyGroupRange::forSubtask(subtask, 3, 128);
    parallel.push_back(std::make_unique<Subtask>(factory(program), GetParam(), range.first, range.last));
  }
  feed(input, 30, 64, [&](const RecordBatch& batch, int64_t watermark, size_t index) {
    ASSERT_OK(single.harness().processBatch(batch));
    ASSERT_OK(single.harness().processWatermark(watermark));
    std::vector<uint64_t> hashes = hashKeys(batch, {0});
    for (int subtask = 0; subtask < 3; ++subtask) {
      std::vector<uint8_t> mine(static_cast<size_t>(batch.numRows()));
      for (int64_t r = 0; r < batch.numRows(); ++r) {
        mine[r] = subtaskForKeyGroup(keyGroupOf(hashes[r], 128), 3, 128) == subtask ? 1 : 0;
      }
      ASSERT_OK(parallel[subtask]->harness().processBatch(batch.filter(mine)));
      if (index == 6) parallel[subtask]->restart(1);
      ASSERT_OK(parallel[subtask]->harness().processWatermark(watermark));
    }
  });
  ASSERT_OK(single.harness().endInput());
  EXPECT_EQ(rowsOf(single.output()), expectedSorted(input));
  std::vector<RecordBatch> merged;
  for (auto& subtask : parallel) {
    ASSERT_OK(subtask->harness().endInput());
    std::vector<int64_t> times = timesOf(subtask->output());
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
    for (const RecordBatch& batch : subtask->output()) merged.push_back(batch);
  }
  EXPECT_EQ(sortedRowsOf(merged), sortedRowsOf(single.output()));
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyedSortTest, ::testing::Values("hashmap", "rocksdb"));

TEST(SortOperatorTest, CompileErrorsAreOneLine) {
  auto noTime = SortProgram::compile(schema(), -1, SortOptions{});
  EXPECT_NE(noTime.status().message().find("no event time"), std::string::npos);
  auto wrongFirst = SortProgram::compile(schema(), 3, SortOptions{{}, {"kind", "ts"}});
  EXPECT_EQ(wrongFirst.status().message(),
            "order_by must start with the event-time field 'ts', not 'kind' (rows are ordered by event time; later "
            "fields break ties)");
  auto unknown = SortProgram::compile(schema(), 3, SortOptions{{"nope"}, {}});
  EXPECT_EQ(unknown.status().message(), "key_by: unknown field 'nope' (fields: key, kind, id, ts)");
  auto descending = SortProgram::compile(schema(), 3, SortOptions{{}, {"ts", "id desc"}});
  EXPECT_NE(descending.status().message().find("plain field name"), std::string::npos);
}

}  // namespace
}  // namespace sluice::over
