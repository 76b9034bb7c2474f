// Tests of the built-in aggregates (with nulls, merge, first/last ordering) and the registry.
#include "operators/window/aggregate_function.h"

#include <gtest/gtest.h>

#include <numeric>

#include "tests/testing/status_matchers.h"
#include "tests/window/batch_rows.h"

namespace sluice::window {
namespace {

using testing::makeBatch;
using testing::makeSchema;
using testing::rowsOf;
using testing::Value;

/// Runs aggregate `name` over column `x` of `values` (event times 0, 1, 2, ... unless given):
/// rows [0, split) into one accumulator, [split, n) into another, merged. Returns the result as text.
std::string aggregate(const std::string& name, DataType type, const std::vector<Value>& values, size_t split,
                      std::vector<int64_t> times = {}) {
  if (times.empty()) {
    times.resize(values.size());
    std::iota(times.begin(), times.end(), 0);
  }
  SchemaPtr schema = makeSchema({{"x", type}, {"t", DataType::kTimestamp}});
  std::vector<std::vector<Value>> rows;
  for (size_t i = 0; i < values.size(); ++i) rows.push_back({values[i], times[i]});
  RecordBatch batch = makeBatch(schema, 1, rows);
  auto function = AggregateRegistry::instance().create(name, type);
  EXPECT_TRUE(function.ok()) << function.status().toString();
  std::vector<int32_t> first(split), second(values.size() - split);
  std::iota(first.begin(), first.end(), 0);
  std::iota(second.begin(), second.end(), static_cast<int32_t>(split));
  AggregateInput input{batch.column(0).get(), batch.eventTimes()};
  std::string a, b;
  (*function)->createAccumulator(a);
  (*function)->createAccumulator(b);
  (*function)->add(a, input, first);
  (*function)->add(b, input, second);
  (*function)->merge(a, b);
  RecordBatchBuilder out(makeSchema({{"r", (*function)->resultType()}}));
  (*function)->getResult(a, out.column(0));
  return rowsOf({out.finish()}).at(0).substr(2);
}

TEST(AggregateFunctionTest, CountCountsRowsOrNonNullValues) {
  std::vector<Value> values = {int64_t{1}, Value{}, int64_t{3}, Value{}};
  EXPECT_EQ(aggregate("count", DataType::kInt64, values, 2), "2");
  auto countAll = AggregateRegistry::instance().create("count", std::nullopt);
  ASSERT_TRUE(countAll.ok());
  std::string accumulator;
  (*countAll)->createAccumulator(accumulator);
  std::vector<int32_t> rows = {0, 1, 2};
  (*countAll)->add(accumulator, AggregateInput{}, rows);
  RecordBatchBuilder out(makeSchema({{"r", DataType::kInt64}}));
  (*countAll)->getResult(accumulator, out.column(0));
  EXPECT_EQ(rowsOf({out.finish()}).at(0), "r=3");
}

TEST(AggregateFunctionTest, SumMinMaxAvgIgnoreNulls) {
  std::vector<Value> values = {int64_t{5}, Value{}, int64_t{-2}, int64_t{9}};
  EXPECT_EQ(aggregate("sum", DataType::kInt64, values, 1), "12");
  EXPECT_EQ(aggregate("min", DataType::kInt64, values, 3), "-2");
  EXPECT_EQ(aggregate("max", DataType::kInt64, values, 0), "9");
  EXPECT_EQ(aggregate("avg", DataType::kInt64, values, 2), "4");
  std::vector<Value> floats = {1.5, 2.25, Value{}};
  EXPECT_EQ(aggregate("sum", DataType::kFloat64, floats, 1), "3.75");
  EXPECT_EQ(aggregate("max", DataType::kFloat64, floats, 1), "2.25");
  std::vector<Value> texts = {std::string("pear"), Value{}, std::string("apple"), std::string("zoo")};
  EXPECT_EQ(aggregate("min", DataType::kString, texts, 3), "apple");
  EXPECT_EQ(aggregate("max", DataType::kString, texts, 1), "zoo");
  std::vector<Value> timestamps = {int64_t{100}, int64_t{50}};
  EXPECT_EQ(aggregate("max", DataType::kTimestamp, timestamps, 1), "100");
  std::vector<Value> bools = {true, false, Value{}};
  EXPECT_EQ(aggregate("min", DataType::kBool, bools, 1), "false");
  EXPECT_EQ(aggregate("max", DataType::kBool, bools, 1), "true");
}

TEST(AggregateFunctionTest, AllNullInputGivesNullResults) {
  std::vector<Value> values = {Value{}, Value{}};
  for (const char* name : {"sum", "min", "max", "avg", "first", "last"}) {
    EXPECT_EQ(aggregate(name, DataType::kInt64, values, 1), "null") << name;
  }
  EXPECT_EQ(aggregate("count", DataType::kInt64, values, 1), "0");
  EXPECT_EQ(aggregate("count_distinct", DataType::kInt64, values, 1), "0");
  EXPECT_EQ(aggregate("sum", DataType::kInt64, {}, 0), "null");
}

TEST(AggregateFunctionTest, CountDistinctMergesExactly) {
  std::vector<Value> values = {int64_t{1}, int64_t{2}, int64_t{1}, Value{}, int64_t{3}, int64_t{2}};
  EXPECT_EQ(aggregate("count_distinct", DataType::kInt64, values, 3), "3");
  std::vector<Value> texts = {std::string("a"), std::string("b"), std::string("a"), std::string("")};
  EXPECT_EQ(aggregate("count_distinct", DataType::kString, texts, 2), "3");
}

TEST(AggregateFunctionTest, FirstAndLastFollowEventTimeThenArrival) {
  std::vector<Value> values = {std::string("b"), std::string("a"), std::string("c"), std::string("d"), Value{}};
  std::vector<int64_t> times = {20, 10, 30, 30, 5};
  EXPECT_EQ(aggregate("first", DataType::kString, values, 2, times), "a");
  // Two values at t=30: the later arrival ("d") is last; the null at t=5 is ignored by first.
  EXPECT_EQ(aggregate("last", DataType::kString, values, 3, times), "d");
  std::vector<Value> tied = {int64_t{1}, int64_t{2}};
  EXPECT_EQ(aggregate("first", DataType::kInt64, tied, 1, {7, 7}), "1");
  EXPECT_EQ(aggregate("last", DataType::kInt64, tied, 1, {7, 7}), "2");
}

TEST(AggregateFunctionTest, IntegerSumWrapsInsteadOfOverflowing) {
  std::vector<Value> values = {int64_t{INT64_MAX}, int64_t{1}};
  EXPECT_EQ(aggregate("sum", DataType::kInt64, values, 1), std::to_string(INT64_MIN));
}

TEST(AggregateFunctionTest, BadArgumentsAreClearErrors) {
  auto& registry = AggregateRegistry::instance();
  auto missing = registry.create("sum", std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "sum() needs an argument, as sum(price)");
  auto text = registry.create("avg", DataType::kString);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), "avg() needs a numeric argument, not string");
  auto unknown = registry.create("median", DataType::kInt64);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown aggregate 'median' (known: avg, count"), std::string::npos);
}

/// A plugin aggregate: the product of int64 values (accumulator: 8 bytes).
class ProductFunction final : public AggregateFunction {
 public:
  DataType resultType() const override { return DataType::kInt64; }
  void createAccumulator(std::string& accumulator) const override { accumulator = std::to_string(1); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    int64_t product = std::stoll(accumulator);
    for (int32_t row : rows) product *= input.argument->int64s()[row];
    accumulator = std::to_string(product);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    accumulator = std::to_string(std::stoll(accumulator) * std::stoll(std::string(other)));
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    out.appendInt64(std::stoll(std::string(accumulator)));
  }
};

TEST(AggregateFunctionTest, PluginsRegisterAggregatesByName) {
  AggregateRegistry::instance().registerAggregate("product", [](std::optional<DataType> type) {
    if (type != DataType::kInt64) return Result<AggregateFunctionPtr>(Status::invalidArgument("product(int64)"));
    return Result<AggregateFunctionPtr>(std::make_shared<ProductFunction>());
  });
  std::vector<Value> values = {int64_t{2}, int64_t{3}, int64_t{7}};
  EXPECT_EQ(aggregate("product", DataType::kInt64, values, 1), "42");
  auto names = AggregateRegistry::instance().names();
  EXPECT_NE(std::find(names.begin(), names.end(), "product"), names.end());
}

TEST(AggregateFunctionTest, AccumulatorListsRoundTrip) {
  std::vector<std::string> accumulators = {"abc", "", std::string("\0x", 2)};
  std::vector<std::string> decoded;
  ASSERT_OK(decodeAccumulators(encodeAccumulators(accumulators), 3, decoded));
  EXPECT_EQ(decoded, accumulators);
  EXPECT_FALSE(decodeAccumulators("\x05", 1, decoded).ok());
}

}  // namespace
}  // namespace sluice::window
