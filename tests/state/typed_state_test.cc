// Typed state (ValueState, ListState, MapState, ReducingState, AggregatingState),
// serializers, KeyContext, key serialisation and key-group ranges.
#include "runtime/state/typed_state.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/data/key_group.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

struct Point {
  int32_t x;
  double y;
};

template <typename T>
T roundTrip(const T& value) {
  auto decoded = StateSerializer<T>::deserialize(serializeState(value));
  EXPECT_TRUE(decoded.ok()) << decoded.status().toString();
  return *decoded;
}

TEST(TypedStateTest, SerializersRoundTripAndPreserveOrder) {
  for (int64_t value : {INT64_MIN, int64_t{-5}, int64_t{0}, int64_t{7}, INT64_MAX}) EXPECT_EQ(roundTrip(value), value);
  for (double value : {-1e300, -2.5, -0.0, 0.0, 1.5, 1e300}) EXPECT_EQ(roundTrip(value), value);
  EXPECT_EQ(roundTrip(uint64_t{123456789}), 123456789u);
  EXPECT_EQ(roundTrip(true), true);
  EXPECT_EQ(roundTrip(std::string("a\0b", 3)), std::string("a\0b", 3));
  Point point = roundTrip(Point{3, 4.5});
  EXPECT_EQ(point.x, 3);
  EXPECT_EQ(point.y, 4.5);

  std::vector<int64_t> numbers = {5, -3, 0, INT64_MIN, 100, -100, INT64_MAX};
  std::vector<std::string> encoded;
  for (int64_t number : numbers) encoded.push_back(serializeState(number));
  std::sort(numbers.begin(), numbers.end());
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < numbers.size(); ++i) EXPECT_EQ(*StateSerializer<int64_t>::deserialize(encoded[i]), numbers[i]);
  EXPECT_LT(serializeState(-2.0), serializeState(-1.0));
  EXPECT_LT(serializeState(-1.0), serializeState(0.5));

  EXPECT_EQ(StateSerializer<int64_t>::deserialize("abc").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(StateSerializer<Point>::deserialize("abc").status().code(), StatusCode::kCorruption);
}

class TypedStateBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    StateBackendOptions options;
    options.type = GetParam();
    options.directory = temp_.file("work");
    options.keyGroups = {0, 127};
    auto backend = createKeyedStateBackend(options);
    ASSERT_OK(backend.status());
    backend_ = std::move(backend).value();
  }
  testing::TempDir temp_;
  std::unique_ptr<KeyedStateBackend> backend_;
  KeyContext context_;
};

TEST_P(TypedStateBackendTest, StatesFollowTheCurrentKey) {
  ASSERT_OK_AND_ASSIGN(auto count, (ValueState<int64_t>::create(*backend_, context_, "count")));
  ASSERT_OK_AND_ASSIGN(auto names, (ListState<std::string>::create(*backend_, context_, "names")));
  ASSERT_OK_AND_ASSIGN(auto byTime, (MapState<int64_t, double>::create(*backend_, context_, "byTime")));

  context_.setCurrentKey("alice", 3);
  EXPECT_EQ(*count.value(), std::nullopt);
  ASSERT_OK(count.update(1));
  ASSERT_OK(names.add("x"));
  ASSERT_OK(names.add("y"));
  for (int64_t time : {30, -10, 20, 0}) ASSERT_OK(byTime.put(time, static_cast<double>(time) / 10));

  context_.setCurrentKey("bob", 9);
  ASSERT_OK(count.update(42));
  EXPECT_TRUE(names.get()->empty());

  context_.setCurrentKey("alice", 3);
  EXPECT_EQ(*count.value(), 1);
  EXPECT_EQ(*names.get(), (std::vector<std::string>{"x", "y"}));
  ASSERT_OK_AND_ASSIGN(auto entries, byTime.entries());
  std::vector<int64_t> keys;
  for (const auto& [time, value] : entries) keys.push_back(time);
  EXPECT_EQ(keys, (std::vector<int64_t>{-10, 0, 20, 30}));  // numeric order, negatives first
  EXPECT_EQ(*byTime.get(20), 2.0);
  EXPECT_FALSE(*byTime.contains(21));
  ASSERT_OK(byTime.remove(20));
  EXPECT_FALSE(*byTime.contains(20));
  EXPECT_FALSE(*byTime.isEmpty());
  ASSERT_OK(byTime.clear());
  EXPECT_TRUE(*byTime.isEmpty());
  ASSERT_OK(names.update({"only"}));
  EXPECT_EQ(*names.get(), std::vector<std::string>{"only"});
  ASSERT_OK(count.clear());
  EXPECT_EQ(*count.value(), std::nullopt);

  context_.setCurrentKey("bob", 9);
  EXPECT_EQ(*count.value(), 42);
}

TEST_P(TypedStateBackendTest, ReducingAndAggregatingState) {
  ASSERT_OK_AND_ASSIGN(
      auto maximum, (ReducingState<int64_t>::create(*backend_, context_, "max", [](const int64_t& a, const int64_t& b) {
        return std::max(a, b);
      })));
  struct Average {
    double sum;
    int64_t count;
  };
  AggregateFunction<double, Average, double> average{
      [] {
        return Average{0, 0};
      },
      [](Average accumulator, const double& value) {
        accumulator.sum += value;
        ++accumulator.count;
        return accumulator;
      },
      [](const Average& accumulator) { return accumulator.sum / static_cast<double>(accumulator.count); }};
  ASSERT_OK_AND_ASSIGN(auto mean,
                       (AggregatingState<double, Average, double>::create(*backend_, context_, "mean", average)));
  context_.setCurrentKey("k", 1);
  EXPECT_EQ(*maximum.get(), std::nullopt);
  EXPECT_EQ(*mean.get(), std::nullopt);
  for (int64_t value : {3, 9, 4}) {
    ASSERT_OK(maximum.add(value));
    ASSERT_OK(mean.add(static_cast<double>(value)));
  }
  EXPECT_EQ(*maximum.get(), 9);
  EXPECT_DOUBLE_EQ(**mean.get(), 16.0 / 3);
  ASSERT_OK(mean.clear());
  EXPECT_EQ(*mean.get(), std::nullopt);

  auto wrongKind = ListState<int64_t>::create(*backend_, context_, "max");
  EXPECT_EQ(wrongKind.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, TypedStateBackendTest, ::testing::Values("rocksdb", "hashmap"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(TypedStateTest, SerializeKeyIsDeterministicAndMarksNulls) {
  auto schema = *Schema::make({{"id", DataType::kInt64}, {"name", DataType::kString}, {"flag", DataType::kBool}});
  RecordBatchBuilder builder(schema);
  builder.column(0).appendInt64(1);
  builder.column(1).appendString("ab");
  builder.column(2).appendBool(true);
  builder.column(0).appendInt64(1);
  builder.column(1).appendNull();
  builder.column(2).appendBool(true);
  builder.column(0).appendInt64(1);
  builder.column(1).appendString("ab");
  builder.column(2).appendBool(true);
  RecordBatch batch = builder.finish();

  std::string first = serializeKey(batch, 0, {0, 1});
  EXPECT_EQ(first, std::string("\1\1\0\0\0\0\0\0\0\1\2\0\0\0ab", 16));
  EXPECT_EQ(serializeKey(batch, 2, {0, 1}), first);
  EXPECT_EQ(serializeKey(batch, 1, {0, 1}), std::string("\1\1\0\0\0\0\0\0\0\0", 10));
  EXPECT_NE(serializeKey(batch, 0, {1, 0}), first);

  std::vector<int> groups = keyGroupsOf(batch, {0, 1}, 128);
  std::vector<uint64_t> hashes = hashKeys(batch, {0, 1});
  for (size_t row = 0; row < hashes.size(); ++row) EXPECT_EQ(groups[row], keyGroupOf(hashes[row], 128));

  KeyContext context;
  context.setCurrentRow(batch, 0, {0, 1}, groups[0]);
  EXPECT_EQ(context.currentKey(), first);
  StateKey key = context.stateKey(4, "user");
  EXPECT_EQ(key.state, 4);
  EXPECT_EQ(key.keyGroup, groups[0]);
  EXPECT_EQ(key.key, first);
  EXPECT_EQ(key.userKey, "user");
}

TEST(TypedStateTest, KeyGroupRangesPartitionAndMatchSubtaskAssignment) {
  for (int maxParallelism : {1, 7, 128, 1000}) {
    for (int parallelism = 1; parallelism <= std::min(maxParallelism, 9); ++parallelism) {
      int next = 0;
      for (int subtask = 0; subtask < parallelism; ++subtask) {
        KeyGroupRange range = KeyGroupRange::forSubtask(subtask, parallelism, maxParallelism);
        EXPECT_EQ(range.first, next);
        EXPECT_FALSE(range.empty());
        for (int group = range.first; group <= range.last; ++group) {
          EXPECT_EQ(subtaskForKeyGroup(group, parallelism, maxParallelism), subtask);
        }
        next = range.last + 1;
      }
      EXPECT_EQ(next, maxParallelism);
    }
  }
  EXPECT_TRUE((KeyGroupRange{0, 10}.intersect({11, 20})).empty());
  EXPECT_EQ((KeyGroupRange{0, 10}.intersect({5, 20})), (KeyGroupRange{5, 10}));
}

}  // namespace
}  // namespace sluice
