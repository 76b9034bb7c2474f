// Tests of the sort and over node factories: YAML options, planned
// partitioning and outputs, registration, and one-line errors for bad options.
#include "operators/over/over_factories.h"

#include <gtest/gtest.h>

#include "operators/over/over_operators.h"
#include "tests/over/over_test_rows.h"
#include "tests/testing/status_matchers.h"

namespace sluice::over {
namespace {

using testing::makeSchema;

NodeSpec spec(const std::string& yaml) {
  NodeSpec node;
  node.id = "v";
  node.role = NodeRole::kOperator;
  node.options = YAML::Load(yaml);
  return node;
}

std::vector<StreamInfo> transactions() {
  return {StreamInfo{makeSchema({{"account_id", DataType::kInt64},
                                 {"merchant_id", DataType::kUInt64},
                                 {"amount_minor", DataType::kInt64},
                                 {"ts", DataType::kTimestamp},
                                 {"txn_id", DataType::kUInt64}}),
                     3}};
}

std::string planError(const std::string& yaml, bool over = true) {
  auto node = over ? planOverNode(spec(yaml), transactions(), PlanContext{})
                   : planSortNode(spec(yaml), transactions(), PlanContext{});
  EXPECT_FALSE(node.ok());
  return node.status().message();
}

TEST(OverFactoriesTest, KeyedOverIsHashPartitionedAndAppendsAggregates) {
  ASSERT_OK_AND_ASSIGN(
      PlannedNode node,
      planOverNode(spec("{type: over, key_by: account_id, order_by: [ts, txn_id], ties: sequential, aggregates: {"
                        "cnt_10m: {fn: count, window: 10min}, sum_24h: {fn: sum, arg: amount_minor, window: 24h},"
                        "small_cnt_10m: {fn: count, window: 10min, filter: 'amount_minor <= 300'},"
                        "dmerch_24h: {fn: count_distinct, arg: merchant_id, window: 24h},"
                        "max_1h: {fn: max, arg: amount_minor, window: 1h}}}"),
                   transactions(), PlanContext{}));
  EXPECT_TRUE(node.keyed);
  EXPECT_FALSE(node.fixedParallelism.has_value());
  ASSERT_EQ(node.inputs.size(), 1u);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kHash);
  EXPECT_EQ(node.inputs[0].keyColumns, std::vector<int>{0});
  EXPECT_EQ(node.outputs.at("").schema->toString(),
            "account_id:int64, merchant_id:uint64, amount_minor:int64, ts:timestamp, txn_id:uint64, "
            "cnt_10m:int64, sum_24h:int64, small_cnt_10m:int64, dmerch_24h:int64, max_1h:int64");
  EXPECT_EQ(node.outputs.at("").eventTimeIndex, 3);
  EXPECT_EQ(*node.outputs.at("late").schema, *transactions()[0].schema);
  EXPECT_NE(node.createOperator(), nullptr);
}

TEST(OverFactoriesTest, SortWithoutKeyIsGlobalAndKeepsItsInputStream) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       planSortNode(spec("{type: sort, order_by: [ts, txn_id]}"), transactions(), PlanContext{}));
  EXPECT_FALSE(node.keyed);
  EXPECT_EQ(node.fixedParallelism, 1);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kRebalance);
  EXPECT_EQ(*node.outputs.at("").schema, *transactions()[0].schema);
  EXPECT_EQ(node.outputs.at("").eventTimeIndex, 3);
  EXPECT_TRUE(node.outputs.count("late"));

  ASSERT_OK_AND_ASSIGN(PlannedNode keyed,
                       planSortNode(spec("{type: sort, key_by: [account_id]}"), transactions(), PlanContext{}));
  EXPECT_TRUE(keyed.keyed);
  EXPECT_EQ(keyed.inputs[0].keyColumns, std::vector<int>{0});
}

TEST(OverFactoriesTest, RegistrationMapsBothKinds) {
  registerOverOperators();
  for (const char* kind : {"sort", "over"}) {
    NodeSpec node = spec(std::string("{type: ") + kind + "}");
    EXPECT_TRUE(NodeRegistry::instance().lookup(node).ok()) << kind;
  }
}

TEST(OverFactoriesTest, BadOptionsGiveOneLineErrors) {
  EXPECT_EQ(planError("{type: over, key_by: account_id}"),
            "node 'v': missing 'aggregates', as {cnt_10m: {fn: count, window: 10min}}");
  EXPECT_EQ(planError("{type: over, aggregates: {c: {fn: count}}}"),
            "node 'v': aggregates: c: missing 'window', a duration such as 10min or 24h");
  EXPECT_EQ(planError("{type: over, aggregates: {c: {window: 1s}}}"),
            "node 'v': aggregates: c: missing 'fn' (count, sum, min, max or count_distinct)");
  EXPECT_EQ(planError("{type: over, aggregates: {c: {fn: count, window: soon}}}"),
            "node 'v': aggregates: c: option 'window' must be a duration such as 10s or 1500ms, not 'soon'");
  EXPECT_EQ(planError("{type: over, aggregates: {c: {fn: count, window: 1s, colour: red}}}"),
            "node 'v': aggregates: c: unknown option 'colour'");
  EXPECT_EQ(planError("{type: over, aggregates: {c: count}}"),
            "node 'v': aggregates: 'c' needs {fn: ..., window: ...}");
  EXPECT_EQ(planError("{type: over, ties: random, aggregates: {c: {fn: count, window: 1s}}}"),
            "node 'v': ties must be 'peers' or 'sequential', not 'random'");
  EXPECT_EQ(planError("{type: over, aggregates: {c: {fn: median, window: 1s}}}"),
            "node 'v': aggregate 'c': unknown fn 'median' (known: count, sum, min, max, count_distinct)");
  EXPECT_EQ(planError("{type: over, window: 1s, aggregates: {c: {fn: count, window: 1s}}}"),
            "node 'v': unknown option 'window'");
  EXPECT_EQ(planError("{type: sort, order_by: [txn_id]}", false),
            "node 'v': order_by must start with the event-time field 'ts', not 'txn_id' (rows are ordered by event "
            "time; later fields break ties)");
  EXPECT_EQ(planError("{type: sort, limit: 3}", false), "node 'v': unknown option 'limit'");
  auto twoInputs = planSortNode(spec("{type: sort}"), {transactions()[0], transactions()[0]}, PlanContext{});
  EXPECT_EQ(twoInputs.status().message(), "node 'v': a sort node takes exactly one input, got 2");
  auto noTime = planOverNode(spec("{type: over, aggregates: {c: {fn: count, window: 1s}}}"),
                             {StreamInfo{transactions()[0].schema, -1}}, PlanContext{});
  EXPECT_EQ(noTime.status().message(),
            "node 'v': the input stream has no event time; declare event_time on its source or map");
}

}  // namespace
}  // namespace sluice::over
