// Tests of the window node factories: YAML options, planned partitioning and
// outputs, registration, and one-line errors for bad options.
#include "operators/window/window_factories.h"

#include <gtest/gtest.h>

#include "operators/window/window_operators.h"
#include "tests/testing/status_matchers.h"
#include "tests/window/batch_rows.h"

namespace sluice::window {
namespace {

using testing::makeSchema;

NodeSpec spec(const std::string& yaml) {
  NodeSpec node;
  node.id = "w";
  node.role = NodeRole::kOperator;
  node.options = YAML::Load(yaml);
  node.line = 3;
  return node;
}

std::vector<StreamInfo> bids() {
  return {StreamInfo{makeSchema({{"auction", DataType::kInt64},
                                 {"bidder", DataType::kInt64},
                                 {"price", DataType::kInt64},
                                 {"dateTime", DataType::kTimestamp}}),
                     3}};
}

TEST(WindowFactoriesTest, KeyedWindowIsHashPartitionedWithALateOutput) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       planWindowAggregateNode(spec("{type: window, key_by: auction, window: {hop: 10s, slide: 2s}, "
                                                    "aggregate: {num: 'count()', top: 'max(price)'}}"),
                                               bids(), PlanContext{}));
  EXPECT_TRUE(node.keyed);
  EXPECT_FALSE(node.fixedParallelism.has_value());
  ASSERT_EQ(node.inputs.size(), 1u);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kHash);
  EXPECT_EQ(node.inputs[0].keyColumns, std::vector<int>{0});
  EXPECT_EQ(node.outputs.at("").schema->toString(),
            "auction:int64, num:int64, top:int64, window_start:timestamp, window_end:timestamp, "
            "window_time:timestamp");
  EXPECT_EQ(node.outputs.at("").eventTimeIndex, 5);
  EXPECT_EQ(*node.outputs.at("late").schema, *bids()[0].schema);
  EXPECT_EQ(node.outputs.at("late").eventTimeIndex, 3);
  EXPECT_NE(node.createOperator(), nullptr);
}

TEST(WindowFactoriesTest, WindowWithoutKeyIsGlobal) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       planWindowAggregateNode(spec("{type: window, window: {session: 10s}, allowed_lateness: 1s, "
                                                    "aggregate: {n: count()}}"),
                                               bids(), PlanContext{}));
  EXPECT_FALSE(node.keyed);
  EXPECT_EQ(node.fixedParallelism, 1);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kRebalance);
}

TEST(WindowFactoriesTest, TopNReadingWindowColumnsIsKeyedByWindowStart) {
  ASSERT_OK_AND_ASSIGN(PlannedNode counts,
                       planWindowAggregateNode(spec("{type: window, key_by: [auction], window: {tumble: 10s}, "
                                                    "aggregate: {num: count()}}"),
                                               bids(), PlanContext{}));
  ASSERT_OK_AND_ASSIGN(PlannedNode top, planWindowTopNNode(spec("{type: window_top_n, order_by: num desc, limit: 1}"),
                                                           {counts.outputs.at("")}, PlanContext{}));
  EXPECT_TRUE(top.keyed);
  EXPECT_EQ(top.inputs[0].kind, PartitionKind::kHash);
  EXPECT_EQ(top.inputs[0].keyColumns, std::vector<int>{2});
  EXPECT_EQ(top.outputs.at("").schema, counts.outputs.at("").schema);
  EXPECT_EQ(top.outputs.at("").eventTimeIndex, 4);

  ASSERT_OK_AND_ASSIGN(PlannedNode global,
                       planWindowTopNNode(spec("{type: window_top_n, order_by: 'price desc, bidder', with_ties: false, "
                                               "window: {tumble: 10s}}"),
                                          bids(), PlanContext{}));
  EXPECT_FALSE(global.keyed);
  EXPECT_EQ(global.fixedParallelism, 1);
  EXPECT_EQ(global.outputs.at("").schema->numFields(), 7);
}

TEST(WindowFactoriesTest, RegistersBothKinds) {
  registerWindowOperators();
  EXPECT_OK(NodeRegistry::instance().lookup(spec("{type: window}")).status());
  EXPECT_OK(NodeRegistry::instance().lookup(spec("{type: window_top_n}")).status());
}

TEST(WindowFactoriesTest, BadOptionsAreOneLineErrorsNamingTheNode) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{type: window, key_by: auction, aggregate: {n: count()}}",
       "node 'w': missing 'window', as {tumble: 10s}, {hop: 10s, slide: 2s} or {session: 10s}"},
      {"{type: window, window: {tumble: 10s, session: 5s}, aggregate: {n: count()}}",
       "node 'w': window: give exactly one of {tumble: 10s}, {hop: 10s, slide: 2s} or {session: 10s}"},
      {"{type: window, window: {hop: 10s}, aggregate: {n: count()}}",
       "node 'w': window: 'slide' goes with 'hop' (and only with it)"},
      {"{type: window, window: {tumble: ten}, aggregate: {n: count()}}",
       "node 'w': window: option 'tumble' must be a duration such as 10s or 1500ms, not 'ten'"},
      {"{type: window, window: {tumble: 10s}, aggregate: {n: count()}, slect: x}", "node 'w': unknown option 'slect'"},
      {"{type: window, key_by: auktion, window: {tumble: 10s}, aggregate: {n: count()}}",
       "node 'w': key_by: unknown field 'auktion' (fields: auction, bidder, price, dateTime)"},
      {"{type: window, window: {tumble: 10s}, aggregate: {n: 'median(price)'}}",
       "node 'w': aggregate 'n': unknown aggregate 'median' (known: avg, count, count_distinct, first, last, max, min"},
      {"{type: window, window: {tumble: 10s}, aggregate: {n: 'sum'}}",
       "node 'w': aggregate 'n': 'sum' is not an aggregate call; expected name(argument), as sum(price)"},
      {"{type: window, window: {tumble: 10s}, aggregate: {price: 'sum(price)'}, key_by: price}",
       "node 'w': output fields (keys, aggregates, window bounds): "},
      {"{type: window_top_n, limit: 1}", "node 'w': missing 'order_by', as 'price desc'"},
      {"{type: window_top_n, order_by: price down, window: {tumble: 1s}}",
       "node 'w': order_by: 'price down' must be 'field', 'field asc' or 'field desc'"},
      {"{type: window_top_n, order_by: price, limit: 0, window: {tumble: 1s}}", "node 'w': limit must be at least 1"},
      {"{type: window_top_n, order_by: price, with_ties: maybe, window: {tumble: 1s}}",
       "node 'w': option 'with_ties' must be true or false, not 'maybe'"},
      {"{type: window_top_n, order_by: price, window: {session: 1s}}",
       "node 'w': window: top-n assigns tumble or hop windows, not sessions"},
  };
  for (const Case& c : cases) {
    NodeSpec node = spec(c.yaml);
    const bool topN = node.options["type"].Scalar() == "window_top_n";
    auto planned =
        topN ? planWindowTopNNode(node, bids(), PlanContext{}) : planWindowAggregateNode(node, bids(), PlanContext{});
    ASSERT_FALSE(planned.ok()) << c.yaml;
    EXPECT_EQ(planned.status().message().substr(0, c.message.size()), c.message) << c.yaml;
    EXPECT_EQ(planned.status().message().find('\n'), std::string::npos);
  }
  auto twoInputs = planWindowAggregateNode(spec("{type: window}"), {bids()[0], bids()[0]}, PlanContext{});
  EXPECT_EQ(twoInputs.status().message(), "node 'w': a window node takes exactly one input, got 2");
  std::vector<StreamInfo> noTime = bids();
  noTime[0].eventTimeIndex = -1;
  auto untimed = planWindowAggregateNode(spec("{type: window, window: {tumble: 1s}, aggregate: {n: count()}}"), noTime,
                                         PlanContext{});
  EXPECT_EQ(untimed.status().message(),
            "node 'w': the input stream has no event time; declare event_time on its source or map");
}

/// The bid stream of the Nexmark examples' file source.
StreamInfo nexmarkBids() {
  return StreamInfo{makeSchema({{"auction", DataType::kInt64},
                                {"bidder", DataType::kInt64},
                                {"price", DataType::kInt64},
                                {"channel", DataType::kString},
                                {"url", DataType::kString},
                                {"dateTime", DataType::kTimestamp},
                                {"extra", DataType::kString}}),
                    5};
}

/// Plans the window nodes of example `name` in order, each fed by the previous one (the first by the bids).
Result<StreamInfo> planExample(const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(JobSpec job, loadJobSpec(std::string(SLUICE_SOURCE_DIR) + "/examples/nexmark/" + name,
                                                   {{"events", "events.jsonl"}, {"output", "out"}}));
  StreamInfo stream = nexmarkBids();
  for (const NodeSpec& node : job.nodes) {
    const std::string kind = operatorKindOf(node);
    if (kind == "window") {
      SLUICE_ASSIGN_OR_RETURN(PlannedNode planned, planWindowAggregateNode(node, {stream}, PlanContext{&job}));
      stream = planned.outputs.at("");
    } else if (kind == "window_top_n") {
      SLUICE_ASSIGN_OR_RETURN(PlannedNode planned, planWindowTopNNode(node, {stream}, PlanContext{&job}));
      stream = planned.outputs.at("");
    }
  }
  return stream;
}

TEST(WindowFactoriesTest, NexmarkExamplesPlan) {
  ASSERT_OK_AND_ASSIGN(StreamInfo q5, planExample("q5.yaml"));
  EXPECT_EQ(q5.schema->toString(),
            "auction:int64, num:int64, window_start:timestamp, window_end:timestamp, window_time:timestamp");
  ASSERT_OK_AND_ASSIGN(StreamInfo q7, planExample("q7.yaml"));
  EXPECT_EQ(q7.schema->numFields(), 10);
  ASSERT_OK_AND_ASSIGN(StreamInfo q11, planExample("q11.yaml"));
  EXPECT_EQ(q11.schema->toString(),
            "bidder:int64, bid_count:int64, window_start:timestamp, window_end:timestamp, window_time:timestamp");
}

}  // namespace
}  // namespace sluice::window
