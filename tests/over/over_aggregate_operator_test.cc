// Tests of OverAggregateOperator: window boundaries, several windows, distinct
// counts with evictions, filters, nulls, out-of-order input, ties, late rows,
// snapshot/restore in both backends, parallelism, idle-key sweeps and errors;
// randomized cases are checked against a brute-force reference.
#include "operators/over/over_aggregate_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

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

constexpr int kTimeIndex = 4;

SchemaPtr schema() {
  static SchemaPtr schema = makeSchema({{"account", DataType::kInt64},
                                        {"amount", DataType::kInt64},
                                        {"merchant", DataType::kString},
                                        {"x", DataType::kFloat64},
                                        {"ts", DataType::kTimestamp},
                                        {"id", DataType::kInt64}});
  return schema;
}

struct Input {
  int64_t account;
  int64_t amount;
  std::string merchant;
  std::optional<double> x;
  int64_t ts;
  int64_t id;
};

RecordBatch batchOf(const std::vector<Input>& inputs) {
  std::vector<std::vector<Value>> values;
  for (const Input& in : inputs) {
    values.push_back({in.account, in.amount, in.merchant, in.x ? Value(*in.x) : Value(), in.ts, in.id});
  }
  return makeBatch(schema(), kTimeIndex, values);
}

/// The aggregates every randomized test uses (windows 10 and 25).
std::vector<OverAggregateSpec> fullAggregates() {
  return {{"cnt_10", "count", "", "", 10},
          {"cnt_25", "count", "", "", 25},
          {"sum_25", "sum", "amount", "", 25},
          {"small_10", "count", "", "amount <= 300", 10},
          {"dmerch_25", "count_distinct", "merchant", "", 25},
          {"max_10", "max", "x", "", 10},
          {"min_25", "min", "x", "", 25},
          {"xcount_10", "count", "x", "", 10}};
}

std::shared_ptr<const OverProgram> compile(std::vector<OverAggregateSpec> aggregates, OverTies ties = OverTies::kPeers,
                                           std::vector<std::string> keyBy = {"account"},
                                           std::vector<std::string> orderBy = {}) {
  OverOptions options;
  options.keyBy = std::move(keyBy);
  options.orderBy = std::move(orderBy);
  options.ties = ties;
  options.aggregates = std::move(aggregates);
  auto program = OverProgram::compile(schema(), kTimeIndex, options);
  EXPECT_OK(program.status());
  return *program;
}

Subtask::Factory factory(std::shared_ptr<const OverProgram> program) {
  return [program] { return std::make_unique<OverAggregateOperator>(program); };
}

/// "id=... name=value ..." for the aggregate columns (after the input's 6 fields) of every output row.
std::vector<std::string> aggregatesOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> full = rowsOf(batches);
  std::vector<std::string> result;
  for (const std::string& row : full) {
    size_t id = row.find("id=");
    result.push_back(row.substr(id));
  }
  return result;
}

/// The brute-force reference: per row, aggregates over its key's rows in the window.
std::vector<std::string> reference(std::vector<Input> inputs, OverTies ties, bool tieBreakById) {
  // Processing order: (ts, id if tie-breaking, arrival).
  std::stable_sort(inputs.begin(), inputs.end(), [&](const Input& a, const Input& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    return tieBreakById && a.id < b.id;
  });
  std::vector<std::string> out;
  for (size_t p = 0; p < inputs.size(); ++p) {
    const Input& current = inputs[p];
    auto inWindow = [&](size_t q, int64_t window) {
      const Input& other = inputs[q];
      if (other.account != current.account) return false;
      if (other.ts <= current.ts - window || other.ts > current.ts) return false;
      return ties == OverTies::kPeers || q <= p;
    };
    std::string text = "id=" + std::to_string(current.id);
    int64_t cnt10 = 0, cnt25 = 0, sum25 = 0, small10 = 0, xcount10 = 0;
    std::set<std::string> merchants;
    std::optional<double> max10, min25;
    for (size_t q = 0; q < inputs.size(); ++q) {
      const Input& other = inputs[q];
      if (inWindow(q, 10)) {
        ++cnt10;
        if (other.amount <= 300) ++small10;
        if (other.x) {
          ++xcount10;
          max10 = max10 ? std::max(*max10, *other.x) : *other.x;
        }
      }
      if (inWindow(q, 25)) {
        ++cnt25;
        sum25 += other.amount;
        merchants.insert(other.merchant);
        if (other.x) min25 = min25 ? std::min(*min25, *other.x) : *other.x;
      }
    }
    auto number = [](std::optional<double> value) {
      if (!value) return std::string("null");
      char buffer[64];
      std::snprintf(buffer, sizeof(buffer), "%g", *value);
      return std::string(buffer);
    };
    text += " cnt_10=" + std::to_string(cnt10) + " cnt_25=" + std::to_string(cnt25) +
            " sum_25=" + std::to_string(sum25) + " small_10=" + std::to_string(small10) +
            " dmerch_25=" + std::to_string(merchants.size()) + " max_10=" + number(max10) + " min_25=" + number(min25) +
            " xcount_10=" + std::to_string(xcount10);
    out.push_back(text);
  }
  return out;
}

/// Random rows for `accounts` keys with event times disordered by up to `bound`
/// (and frequent equal times), ids unique.
std::vector<Input> randomInputs(int count, int accounts, int64_t bound, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<Input> inputs;
  for (int i = 0; i < count; ++i) {
    Input in;
    in.account = random() % accounts;
    in.amount = 100 + random() % 400;
    in.merchant = "m" + std::to_string(random() % 6);
    if (random() % 4 != 0) in.x = static_cast<double>(static_cast<int>(random() % 1000) - 500) / 4;
    in.ts = i / 2 + static_cast<int64_t>(random() % bound);
    in.id = i;
    inputs.push_back(in);
  }
  return inputs;
}

/// Feeds `inputs` in batches, each followed by the watermark maxTs - bound - 1 (so nothing is late).
void feed(const std::vector<Input>& inputs, int64_t bound, size_t batchSize,
          const std::function<void(const RecordBatch&, int64_t watermark, size_t index)>& send) {
  int64_t maxTs = 0;
  for (size_t begin = 0, index = 0; begin < inputs.size(); begin += batchSize, ++index) {
    std::vector<Input> part(inputs.begin() + begin, inputs.begin() + std::min(inputs.size(), begin + batchSize));
    for (const Input& in : part) maxTs = std::max(maxTs, in.ts);
    send(batchOf(part), maxTs - bound - 1, index);
  }
}

std::vector<std::string> sorted(std::vector<std::string> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST(OverAggregateOperatorTest, WindowExcludesTMinusWAndIncludesT) {
  Subtask task(factory(compile({{"cnt", "count", "", "", 10}, {"total", "sum", "amount", "", 10}})), "hashmap");
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 1, "a", {}, 0, 0},
                                                 {1, 2, "a", {}, 9, 1},
                                                 {1, 4, "a", {}, 10, 2},
                                                 {1, 8, "a", {}, 19, 3},
                                                 {1, 16, "a", {}, 20, 4},
                                                 {1, 32, "a", {}, 40, 5}})));
  ASSERT_OK(task.harness().endInput());
  // t=10: (0, 10] drops t=0; t=19: (9, 19] drops t=9; t=20: (10, 20]; t=40 alone.
  EXPECT_EQ(aggregatesOf(task.output()),
            (std::vector<std::string>{"id=0 cnt=1 total=1", "id=1 cnt=2 total=3", "id=2 cnt=2 total=6",
                                      "id=3 cnt=2 total=12", "id=4 cnt=2 total=24", "id=5 cnt=1 total=32"}));
  EXPECT_EQ(rowsOf(task.output()).front(), "account=1 amount=1 merchant=a x=null ts=0 id=0 cnt=1 total=1");
  EXPECT_EQ(task.output().front().eventTimeIndex(), kTimeIndex);
}

TEST(OverAggregateOperatorTest, DistinctCountsFiltersAndNullsFollowEvictions) {
  Subtask task(factory(compile({{"dm", "count_distinct", "merchant", "", 10},
                                {"small", "count", "", "amount <= 300", 10},
                                {"xs", "count", "x", "", 10},
                                {"top", "max", "x", "", 10},
                                {"low", "min", "merchant", "", 10},
                                {"xsum", "sum", "x", "amount > 300", 10}})),
               "rocksdb");
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 100, "b", 2.5, 1, 0},
                                                 {1, 500, "a", {}, 2, 1},
                                                 {1, 300, "b", 7.0, 5, 2},
                                                 {1, 301, "c", 1.0, 11, 3},
                                                 {1, 50, "c", {}, 12, 4},
                                                 {1, 400, "c", {}, 30, 5}})));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(aggregatesOf(task.output()),
            (std::vector<std::string>{
                "id=0 dm=1 small=1 xs=1 top=2.5 low=b xsum=null", "id=1 dm=2 small=1 xs=1 top=2.5 low=a xsum=null",
                "id=2 dm=2 small=2 xs=2 top=7 low=a xsum=null",
                // t=11: (1, 11] evicts t=1 (b stays from t=5).
                "id=3 dm=3 small=1 xs=2 top=7 low=a xsum=1",
                // t=12: (2, 12] evicts t=2 (the only 'a').
                "id=4 dm=2 small=2 xs=2 top=7 low=b xsum=1",
                // t=30: everything earlier is gone; a filtered-out float sum over no value is null.
                "id=5 dm=1 small=0 xs=0 top=null low=c xsum=null"}));
}

TEST(OverAggregateOperatorTest, OutOfOrderInputIsSortedBehindTheWatermark) {
  Subtask task(factory(compile({{"cnt", "count", "", "", 3}})), "hashmap");
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 1, "a", {}, 5, 0}, {1, 1, "a", {}, 3, 1}})));
  ASSERT_OK(task.harness().processWatermark(2));
  EXPECT_TRUE(task.output().empty());
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 1, "a", {}, 4, 2}, {2, 1, "a", {}, 4, 3}})));
  ASSERT_OK(task.harness().processWatermark(4));
  EXPECT_EQ(aggregatesOf(task.output()), (std::vector<std::string>{"id=1 cnt=1", "id=2 cnt=2", "id=3 cnt=1"}));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(aggregatesOf(task.output()).back(), "id=0 cnt=3");
  EXPECT_EQ(timesOf(task.output()), (std::vector<int64_t>{3, 4, 4, 5}));
  EXPECT_EQ(task.harness().output().watermarks.front(), 2);
}

TEST(OverAggregateOperatorTest, TiesArePeersByDefaultOrSequentialInTieBreakOrder) {
  const std::vector<Input> input = {
      {1, 1, "a", {}, 5, 3}, {1, 1, "a", {}, 5, 1}, {1, 1, "a", {}, 4, 9}, {1, 1, "a", {}, 5, 2}};
  Subtask peers(factory(compile({{"cnt", "count", "", "", 10}})), "hashmap");
  ASSERT_OK(peers.harness().processBatch(batchOf(input)));
  ASSERT_OK(peers.harness().endInput());
  EXPECT_EQ(aggregatesOf(peers.output()),
            (std::vector<std::string>{"id=9 cnt=1", "id=3 cnt=4", "id=1 cnt=4", "id=2 cnt=4"}));

  Subtask arrival(factory(compile({{"cnt", "count", "", "", 10}}, OverTies::kSequential)), "hashmap");
  ASSERT_OK(arrival.harness().processBatch(batchOf(input)));
  ASSERT_OK(arrival.harness().endInput());
  EXPECT_EQ(aggregatesOf(arrival.output()),
            (std::vector<std::string>{"id=9 cnt=1", "id=3 cnt=2", "id=1 cnt=3", "id=2 cnt=4"}));

  Subtask ordered(factory(compile({{"cnt", "count", "", "", 10}}, OverTies::kSequential, {"account"}, {"ts", "id"})),
                  "hashmap");
  ASSERT_OK(ordered.harness().processBatch(batchOf(input)));
  ASSERT_OK(ordered.harness().endInput());
  EXPECT_EQ(aggregatesOf(ordered.output()),
            (std::vector<std::string>{"id=9 cnt=1", "id=1 cnt=2", "id=2 cnt=3", "id=3 cnt=4"}));
}

TEST(OverAggregateOperatorTest, LateRowsGoToTheSideOutputUnchanged) {
  Subtask task(factory(compile({{"cnt", "count", "", "", 10}})), "hashmap");
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 1, "a", {}, 8, 0}})));
  ASSERT_OK(task.harness().processWatermark(10));
  ASSERT_OK(task.harness().processBatch(batchOf({{1, 1, "a", {}, 10, 1}, {1, 1, "a", {}, 11, 2}})));
  ASSERT_OK(task.harness().endInput());
  EXPECT_EQ(rowsOf(task.late()), (std::vector<std::string>{"account=1 amount=1 merchant=a x=null ts=10 id=1"}));
  EXPECT_EQ(aggregatesOf(task.output()), (std::vector<std::string>{"id=0 cnt=1", "id=2 cnt=2"}));
}

struct RandomCase {
  OverTies ties;
  bool tieBreakById;
  std::string backend;
};

void PrintTo(const RandomCase& param, std::ostream* out) {
  *out << (param.ties == OverTies::kPeers ? "peers" : "sequential") << (param.tieBreakById ? " by id" : " by arrival")
       << " on " << param.backend;
}

class OverRandomTest : public ::testing::TestWithParam<RandomCase> {};

TEST_P(OverRandomTest, MatchesTheReferenceAcrossRestartsAndParallelism) {
  const RandomCase& param = GetParam();
  const int64_t bound = 12;
  std::vector<Input> inputs = randomInputs(700, 7, bound, 42);
  std::vector<std::string> orderBy;
  if (param.tieBreakById) orderBy = {"ts", "id"};
  auto program = compile(fullAggregates(), param.ties, {"account"}, orderBy);
  std::vector<std::string> expected = reference(inputs, param.ties, param.tieBreakById);

  Subtask single(factory(program), param.backend);
  std::vector<std::unique_ptr<Subtask>> parallel;
  for (int subtask = 0; subtask < 3; ++subtask) {
    KeyGroupRange range = KeyGroupRange::forSubtask(subtask, 3, 128);
    parallel.push_back(std::make_unique<Subtask>(factory(program), param.backend, range.first, range.last));
  }
  feed(inputs, bound, 37, [&](const RecordBatch& batch, int64_t watermark, size_t index) {
    ASSERT_OK(single.harness().processBatch(batch));
    if (index == 5) single.restart(1);  // with rows pending behind the watermark
    ASSERT_OK(single.harness().processWatermark(watermark));
    if (index == 11) single.restart(2);
    std::vector<uint64_t> hashes = hashKeys(batch, {0});
    for (int subtask = 0; subtask < 3; ++subtask) {
      std::vector<uint8_t> mine(static_cast<size_t>(batch.numRows()));
      for (int64_t r = 0; r < batch.numRows(); ++r) {
        mine[r] = subtaskForKeyGroup(keyGroupOf(hashes[r], 128), 3, 128) == subtask ? 1 : 0;
      }
      ASSERT_OK(parallel[subtask]->harness().processBatch(batch.filter(mine)));
      ASSERT_OK(parallel[subtask]->harness().processWatermark(watermark));
    }
  });
  ASSERT_OK(single.harness().endInput());
  EXPECT_TRUE(single.late().empty());
  std::vector<int64_t> times = timesOf(single.output());
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(sorted(aggregatesOf(single.output())), sorted(expected));
  if (param.ties == OverTies::kSequential && param.tieBreakById) {
    // One subtask processes in exactly the reference order.
    EXPECT_EQ(aggregatesOf(single.output()), expected);
  }
  std::vector<RecordBatch> merged;
  for (auto& subtask : parallel) {
    ASSERT_OK(subtask->harness().endInput());
    for (const RecordBatch& batch : subtask->output()) merged.push_back(batch);
  }
  EXPECT_EQ(sortedRowsOf(merged), sortedRowsOf(single.output()));
}

std::string randomCaseName(const ::testing::TestParamInfo<RandomCase>& info) {
  return std::string(info.param.ties == OverTies::kPeers ? "Peers" : "Sequential") +
         (info.param.tieBreakById ? "ById" : "ByArrival") + "_" + info.param.backend;
}

INSTANTIATE_TEST_SUITE_P(Cases, OverRandomTest,
                         ::testing::Values(RandomCase{OverTies::kPeers, false, "hashmap"},
                                           RandomCase{OverTies::kSequential, true, "hashmap"},
                                           RandomCase{OverTies::kSequential, false, "rocksdb"},
                                           RandomCase{OverTies::kPeers, true, "rocksdb"}),
                         randomCaseName);

TEST(OverAggregateOperatorTest, GlobalOverKeepsStateInItsSnapshotBlob) {
  std::vector<Input> inputs = randomInputs(300, 4, 8, 3);
  auto program = compile(fullAggregates(), OverTies::kSequential, {}, {"ts", "id"});
  Subtask task(factory(program), "");
  feed(inputs, 8, 25, [&](const RecordBatch& batch, int64_t watermark, size_t index) {
    ASSERT_OK(task.harness().processBatch(batch));
    if (index == 3 || index == 8) task.restart(static_cast<int64_t>(index));
    ASSERT_OK(task.harness().processWatermark(watermark));
  });
  ASSERT_OK(task.harness().endInput());
  // Without key_by every row shares one history: the reference with a single account.
  for (Input& in : inputs) in.account = 0;
  EXPECT_EQ(aggregatesOf(task.output()), reference(inputs, OverTies::kSequential, true));
}

TEST(OverAggregateOperatorTest, IdleKeysAreSweptAndStateIsEvicted) {
  sluice::testing::TempDir directory;
  auto backend = testing::makeBackend("hashmap", directory.file("backend"));
  OperatorContext context;
  context.keyedStateBackend = backend.get();
  auto program = compile({{"cnt", "count", "", "", 10}});
  sluice::testing::OperatorHarness harness(std::make_unique<OverAggregateOperator>(program), context);
  ASSERT_OK(harness.open());
  ASSERT_OK_AND_ASSIGN(int history, backend->registerState({"over-history", StateKind::kValue}));
  auto entries = [&] {
    std::map<std::string, int64_t> sizes;
    EXPECT_OK(backend->scanAll(history, [&](int, std::string_view key, std::string_view, std::string_view value) {
      sizes[std::string(key)] = static_cast<int64_t>(value.size());
      return true;
    }));
    return sizes;
  };
  std::vector<Input> rows;
  for (int i = 0; i < 50; ++i) rows.push_back({1, 1, "a", {}, i, i});
  rows.push_back({2, 1, "a", {}, 0, 100});
  ASSERT_OK(harness.processBatch(batchOf(rows)));
  ASSERT_OK(harness.processWatermark(49));
  // Key 1 keeps only the 10 entries of (39, 49], key 2 its one entry: 9 more entries of 8 + 1 bytes.
  auto sizes = entries();
  ASSERT_EQ(sizes.size(), 2u);
  const int64_t first = sizes.begin()->second;
  const int64_t second = std::next(sizes.begin())->second;
  EXPECT_EQ(std::max(first, second) - std::min(first, second), 9 * 9);
  ASSERT_OK(harness.processWatermark(60));  // a sweep runs at most once per 10 ms of event time
  EXPECT_TRUE(entries().empty());
  ASSERT_OK(harness.processBatch(batchOf({{2, 1, "a", {}, 61, 200}})));
  ASSERT_OK(harness.endInput());
  EXPECT_EQ(aggregatesOf(harness.output().batches).back(), "id=200 cnt=1");
}

TEST(OverAggregateOperatorTest, CompileErrorsAreOneLine) {
  auto error = [](std::vector<OverAggregateSpec> aggregates, std::vector<std::string> orderBy = {}) {
    OverOptions options;
    options.keyBy = {"account"};
    options.orderBy = std::move(orderBy);
    options.aggregates = std::move(aggregates);
    auto program = OverProgram::compile(schema(), kTimeIndex, options);
    EXPECT_FALSE(program.ok());
    return program.status().message();
  };
  EXPECT_EQ(error({{"a", "avg", "amount", "", 10}}),
            "aggregate 'a': unknown fn 'avg' (known: count, sum, min, max, count_distinct)");
  EXPECT_EQ(error({{"a", "sum", "", "", 10}}), "aggregate 'a': fn 'sum' needs an arg");
  EXPECT_EQ(error({{"a", "sum", "merchant", "", 10}}),
            "aggregate 'a': sum needs an int64, uint64 or float64 arg, not string");
  EXPECT_EQ(error({{"a", "count", "", "amount + 1", 10}}),
            "aggregate 'a': filter must be a bool expression, not int64");
  EXPECT_EQ(error({{"a", "count", "", "", 0}}), "aggregate 'a': window must be a positive duration");
  EXPECT_NE(error({{"a", "count", "nope", "", 10}}).find("aggregate 'a': arg"), std::string::npos);
  EXPECT_NE(error({{"amount", "count", "", "", 10}}).find("output fields"), std::string::npos);
  EXPECT_NE(error({{"a", "count", "", "", 10}}, {"id"}).find("must start with the event-time field 'ts'"),
            std::string::npos);
  EXPECT_EQ(error({}), "give at least one aggregate");
}

}  // namespace
}  // namespace sluice::over
