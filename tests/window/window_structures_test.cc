// Tests of the window operators' hot-path structures: RowGroups' open-addressing
// index, WindowTimerBuckets (dedup, order, persistence compatible with
// WindowTimerService), the key-indexed slice cache against a brute-force
// reference, and top-N selection against a full stable sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "operators/window/row_groups.h"
#include "operators/window/window_aggregate_operator.h"
#include "operators/window/window_timer_service.h"
#include "operators/window/window_top_n_operator.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/window/batch_rows.h"

namespace sluice::window {
namespace {

using sluice::testing::OperatorHarness;
using sluice::testing::TempDir;
using testing::auctionCountsSchema;
using testing::keyPriceTimeSchema;
using testing::makeBackend;
using testing::makeBatch;
using testing::rowsOf;
using testing::sortedRowsOf;
using testing::Value;

TEST(WindowRowGroupsTest, ListsEachGroupsRowsInOrderAcrossTableGrowthAndReuse) {
  RowGroups groups;
  for (int round = 0; round < 2; ++round) {
    groups.clear();
    std::map<std::string, std::vector<int32_t>> expected;
    std::vector<std::string> firstSeen;
    for (int32_t row = 0; row < 1000; ++row) {
      // 300 distinct keys of varying length (some empty-ish), far beyond the initial table.
      std::string key = std::string(static_cast<size_t>(row % 7), 'k') + std::to_string((row * 37 + round) % 300);
      if (expected[key].empty()) firstSeen.push_back(key);
      expected[key].push_back(row);
      groups.add(key, row);
    }
    groups.finish();
    ASSERT_EQ(groups.size(), expected.size());
    for (size_t group = 0; group < groups.size(); ++group) {
      const std::string key(groups.key(group));
      EXPECT_EQ(key, firstSeen[group]);
      const auto rows = groups.rows(group);
      EXPECT_EQ(std::vector<int32_t>(rows.begin(), rows.end()), expected[key]);
      EXPECT_EQ(groups.firstRow(group), expected[key].front());
    }
  }
}

using TimerTuple = std::tuple<int64_t, int, int, std::string, int64_t>;  // time, kind, key group, key, window

std::vector<TimerTuple> drain(WindowTimerBuckets& timers, int64_t watermark) {
  std::vector<TimerTuple> fired;
  WindowTimerBuckets::Due due;
  while (true) {
    auto popped = timers.popDue(watermark, due);
    EXPECT_TRUE(popped.ok());
    if (!popped.ok() || !*popped) break;
    for (const auto& key : due.keys) {
      fired.emplace_back(due.time, static_cast<int>(due.kind), key.keyGroup, key.key, due.window);
    }
  }
  return fired;
}

TEST(WindowTimerBucketsTest, FiresEachTimerOnceInServiceOrder) {
  MemoryStateStore store;
  WindowTimerBuckets timers;
  ASSERT_OK(timers.open(&store, "window-timers"));
  timers.add(19, TimerKind::kFire, 20, 1, "b");
  timers.add(9, TimerKind::kCleanup, 8, 0, "z");
  timers.add(9, TimerKind::kFire, 10, 2, "a");
  timers.add(9, TimerKind::kFire, 10, 1, "c");
  timers.add(9, TimerKind::kFire, 10, 1, "a");
  timers.add(9, TimerKind::kFire, 10, 2, "a");   // duplicate
  timers.add(19, TimerKind::kFire, 20, 1, "b");  // duplicate
  EXPECT_EQ(timers.size(), 5u);
  EXPECT_EQ(drain(timers, 8), std::vector<TimerTuple>{});
  EXPECT_EQ(drain(timers, 9),
            (std::vector<TimerTuple>{{9, 0, 1, "a", 10}, {9, 0, 1, "c", 10}, {9, 0, 2, "a", 10}, {9, 1, 0, "z", 8}}));
  timers.add(19, TimerKind::kFire, 20, 1, "b");  // still pending: a duplicate again
  EXPECT_EQ(drain(timers, 100), (std::vector<TimerTuple>{{19, 0, 1, "b", 20}}));
  EXPECT_EQ(timers.size(), 0u);
}

TEST(WindowTimerBucketsTest, FlushWritesTheServicesLayoutAndForgetsFiredTimers) {
  MemoryStateStore store;  // keeps no key groups (global operators): all timers use group 0
  {
    WindowTimerBuckets timers;
    ASSERT_OK(timers.open(&store, "window-timers"));
    timers.add(9, TimerKind::kFire, 10, 0, "k1");
    timers.add(19, TimerKind::kFire, 20, 0, "k1");
    timers.add(19, TimerKind::kFire, 20, 0, "k2");
    ASSERT_OK(timers.flush());
    timers.add(19, TimerKind::kFire, 20, 0, "k2");  // already stored
    timers.add(29, TimerKind::kCleanup, 20, 0, "k2");
    EXPECT_EQ(drain(timers, 9).size(), 1u);  // (9, k1) fired: must leave the store at the next flush
    ASSERT_OK(timers.flush());
  }
  // WindowTimerService reads the same entries.
  WindowTimerService service;
  ASSERT_OK(service.open(&store, "window-timers"));
  std::vector<TimerTuple> stored;
  service.forEach([&](const WindowTimer& timer) {
    stored.emplace_back(timer.time, static_cast<int>(timer.kind), timer.keyGroup, timer.key, timer.window);
  });
  const std::vector<TimerTuple> expected{{19, 0, 0, "k1", 20}, {19, 0, 0, "k2", 20}, {29, 1, 0, "k2", 20}};
  EXPECT_EQ(stored, expected);
  // And a reopened bucket queue fires exactly those, removing them from the store on flush.
  WindowTimerBuckets reopened;
  ASSERT_OK(reopened.open(&store, "window-timers"));
  reopened.add(19, TimerKind::kFire, 20, 0, "k1");  // duplicate of a stored timer
  EXPECT_EQ(drain(reopened, 100), expected);
  ASSERT_OK(reopened.flush());
  WindowTimerService empty;
  ASSERT_OK(empty.open(&store, "window-timers"));
  EXPECT_EQ(empty.size(), 0u);
}

TEST(WindowTimerBucketsTest, NonPersistentTimersLoadStoredOnesOnceAndNeverWrite) {
  MemoryStateStore store;
  {
    WindowTimerService older;  // a checkpoint of the layout that stored every timer
    ASSERT_OK(older.open(&store, "window-timers"));
    ASSERT_OK(older.add(9, TimerKind::kFire, 0, "k1", 10));
    ASSERT_OK(older.add(19, TimerKind::kCleanup, 0, "k2", 10));
    ASSERT_OK(older.flush());
  }
  auto storedCount = [&store] {
    size_t count = 0;
    auto state = store.registerState("window-timers", StateKind::kMap);
    EXPECT_TRUE(state.ok());
    EXPECT_OK(store.scanAll(*state, [&](int, std::string_view, std::string_view, std::string_view) {
      ++count;
      return true;
    }));
    return count;
  };
  ASSERT_EQ(storedCount(), 2u);
  WindowTimerBuckets buckets;
  ASSERT_OK(buckets.open(&store, "window-timers", /*persist=*/false));
  EXPECT_EQ(storedCount(), 0u);  // loaded and removed from the store
  buckets.add(29, TimerKind::kFire, 30, 0, "k3");
  ASSERT_OK(buckets.flush());
  EXPECT_EQ(storedCount(), 0u);  // never written
  EXPECT_EQ(drain(buckets, 100),
            (std::vector<TimerTuple>{{9, 0, 0, "k1", 10}, {19, 1, 0, "k2", 10}, {29, 0, 0, "k3", 30}}));

  WindowTimerService writer;
  ASSERT_OK(writer.open(&store, "window-timers"));
  ASSERT_OK(writer.add(9, TimerKind::kFire, 0, "k1", 10));
  ASSERT_OK(writer.flush());
  WindowTimerService service;
  ASSERT_OK(service.open(&store, "window-timers", /*persist=*/false));
  EXPECT_EQ(service.size(), 1u);
  EXPECT_EQ(storedCount(), 0u);
  ASSERT_OK(service.add(19, TimerKind::kFire, 0, "k2", 20));
  ASSERT_OK(service.remove(9, TimerKind::kFire, 0, "k1", 10));
  ASSERT_OK(service.flush());
  EXPECT_EQ(storedCount(), 0u);
  ASSERT_OK_AND_ASSIGN(std::optional<WindowTimer> due, service.popDue(100));
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->key, "k2");
  EXPECT_EQ(service.size(), 0u);
}

TEST(WindowTimerBucketsTest, MalformedStoredTimerIsCorruption) {
  MemoryStateStore store;
  ASSERT_OK_AND_ASSIGN(int state, store.registerState("window-timers", StateKind::kMap));
  ASSERT_OK(store.put(StateKey{state, 0, "k", "short"}, ""));
  WindowTimerBuckets timers;
  Status status = timers.open(&store, "window-timers");
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.toString();
  EXPECT_NE(status.message().find("window-timers"), std::string::npos);
}

/// Brute-force hopping-window counts with allowed lateness 0: a window holds the rows
/// that arrived before the watermark reached its end - 1.
std::vector<std::string> referenceCounts(const std::vector<std::vector<std::vector<Value>>>& batches,
                                         const std::vector<int64_t>& watermarks, int64_t size, int64_t slide) {
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> windows;  // (key, end) -> (count, sum)
  std::vector<std::tuple<int64_t, int64_t, int64_t>> seen;                     // key, price, t
  int64_t watermark = std::numeric_limits<int64_t>::min();
  std::vector<std::string> out;
  auto fire = [&](int64_t upTo) {
    // Windows ending in (watermark + 1, upTo + 1] fire with the rows seen so far.
    std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> firing;
    for (const auto& [key, price, t] : seen) {
      for (int64_t start = t - ((t % slide) + slide) % slide; start > t - size; start -= slide) {
        const int64_t end = start + size;
        if (end - 1 > watermark && end - 1 <= upTo) {
          auto& [count, sum] = firing[{key, end}];
          ++count;
          sum += price;
        }
      }
    }
    for (const auto& [window, value] : firing) {
      out.push_back("key=" + std::to_string(window.first) + " num=" + std::to_string(value.first) +
                    " total=" + std::to_string(value.second) + " window_start=" + std::to_string(window.second - size) +
                    " window_end=" + std::to_string(window.second) +
                    " window_time=" + std::to_string(window.second - 1));
    }
    watermark = upTo;
  };
  for (size_t i = 0; i < batches.size(); ++i) {
    for (const auto& row : batches[i]) {
      const int64_t t = std::get<int64_t>(row[2]);
      const int64_t lastStart = t - ((t % slide) + slide) % slide;
      if (lastStart + size - 1 <= watermark) continue;  // late
      seen.emplace_back(std::get<int64_t>(row[0]), std::get<int64_t>(row[1]), t);
    }
    fire(watermarks[i]);
  }
  fire(std::numeric_limits<int64_t>::max() - 1);
  std::sort(out.begin(), out.end());
  return out;
}

struct CacheCase {
  std::string backend;
  size_t cacheCapacity;
};

class WindowKeyedSliceCacheTest : public ::testing::TestWithParam<CacheCase> {};

/// Many keys, rows of one key spread over several slices in one batch and out of order,
/// state far larger than the cache, and a checkpoint in the middle: the output must equal
/// the brute-force reference.
TEST_P(WindowKeyedSliceCacheTest, MatchesBruteForceCountsWithEvictionAndCheckpoints) {
  const CacheCase& param = GetParam();
  WindowAggregateOptions options;
  options.keyBy = {"key"};
  options.window = WindowSpec::hop(10, 2);
  options.aggregates = {{"num", "count()"}, {"total", "sum(price)"}};
  ASSERT_OK_AND_ASSIGN(auto program, WindowAggregateProgram::compile(keyPriceTimeSchema(), 2, options));

  std::mt19937 random(7);
  std::vector<std::vector<std::vector<Value>>> batches;
  std::vector<int64_t> watermarks;
  int64_t maxTime = 0;
  for (int b = 0; b < 30; ++b) {
    std::vector<std::vector<Value>> values;
    for (int i = 0; i < 40; ++i) {
      maxTime += random() % 2;
      const int64_t t = maxTime - static_cast<int64_t>(random() % 9);
      values.push_back({int64_t(random() % 60), int64_t(random() % 100), t});
    }
    batches.push_back(values);
    watermarks.push_back(maxTime - 5);
  }

  TempDir directory;
  std::unique_ptr<KeyedStateBackend> backend = makeBackend(param.backend, directory.file("backend"));
  OperatorContext context;
  context.nodeId = "w";
  context.keyedStateBackend = backend.get();
  OperatorHarness harness(std::make_unique<WindowAggregateOperator>(program, param.cacheCapacity), context);
  ASSERT_OK(harness.open());
  for (size_t i = 0; i < batches.size(); ++i) {
    ASSERT_OK(harness.processBatch(makeBatch(keyPriceTimeSchema(), 2, batches[i])));
    if (i % 7 == 3) {
      OperatorSnapshot snapshot;
      ASSERT_OK(harness.snapshot(static_cast<int64_t>(i), snapshot));
    }
    ASSERT_OK(harness.processWatermark(watermarks[i]));
  }
  ASSERT_OK(harness.endInput());
  const std::vector<std::string> expected = referenceCounts(batches, watermarks, 10, 2);
  EXPECT_GE(expected.size(), 200u);
  EXPECT_EQ(sortedRowsOf(harness.output().batches), expected);
}

INSTANTIATE_TEST_SUITE_P(Caches, WindowKeyedSliceCacheTest,
                         ::testing::Values(CacheCase{"hashmap", WindowAggregateOperator::kDefaultCacheCapacity},
                                           CacheCase{"hashmap", 1}, CacheCase{"hashmap", 17}, CacheCase{"rocksdb", 5}));

class WindowTopNSelectionTest : public ::testing::TestWithParam<std::tuple<int64_t, bool>> {};

/// Random batches with many ties: the emitted rows must be what a stable sort of all
/// rows (by num desc, ties by arrival) then truncation to the limit (plus ties) keeps.
TEST_P(WindowTopNSelectionTest, KeepsWhatAFullStableSortKeeps) {
  const auto [limit, withTies] = GetParam();
  WindowTopNOptions options;
  options.orderBy = {{"num", true}};
  options.limit = limit;
  options.withTies = withTies;
  ASSERT_OK_AND_ASSIGN(auto program, WindowTopNProgram::compile(auctionCountsSchema(), 4, options));
  TempDir directory;
  std::unique_ptr<KeyedStateBackend> backend = makeBackend("hashmap", directory.file("backend"));
  OperatorContext context;
  context.nodeId = "top";
  context.keyedStateBackend = backend.get();
  OperatorHarness harness(std::make_unique<WindowTopNOperator>(program), context);
  ASSERT_OK(harness.open());

  std::mt19937 random(static_cast<unsigned>(limit * 2 + (withTies ? 1 : 0)));
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> arrivals;  // window start -> (auction, num)
  int64_t auction = 0;
  for (int b = 0; b < 12; ++b) {
    std::vector<std::vector<Value>> values;
    for (int i = 0; i < 50; ++i) {
      const int64_t start = static_cast<int64_t>(random() % 3) * 10;
      const int64_t num = static_cast<int64_t>(random() % 6);
      values.push_back({++auction, num, start, start + 10, start + 9});
      arrivals[start].emplace_back(auction, num);
    }
    ASSERT_OK(harness.processBatch(makeBatch(auctionCountsSchema(), 4, values)));
  }
  ASSERT_OK(harness.endInput());

  std::vector<std::string> expected;
  for (auto& [start, rows] : arrivals) {
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    size_t keep = std::min(rows.size(), static_cast<size_t>(limit));
    while (withTies && keep < rows.size() && rows[keep].second == rows[keep - 1].second) ++keep;
    for (size_t i = 0; i < keep; ++i) {
      expected.push_back("auction=" + std::to_string(rows[i].first) + " num=" + std::to_string(rows[i].second) +
                         " window_start=" + std::to_string(start) + " window_end=" + std::to_string(start + 10) +
                         " window_time=" + std::to_string(start + 9));
    }
  }
  EXPECT_EQ(rowsOf(harness.output().batches), expected);
}

INSTANTIATE_TEST_SUITE_P(Limits, WindowTopNSelectionTest,
                         ::testing::Combine(::testing::Values(int64_t{1}, int64_t{3}), ::testing::Bool()));

}  // namespace
}  // namespace sluice::window
