#include "operators/join/join_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/join/join_operators.h"
#include "tests/join/join_test_support.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using testing::planJoin;

class JoinFactoryTest : public ::testing::Test {
 protected:
  JoinFactoryTest() {
    persons_ = StreamInfo{*Schema::make({{"id", DataType::kInt64},
                                         {"name", DataType::kString},
                                         {"state", DataType::kString},
                                         {"dateTime", DataType::kTimestamp}}),
                          3};
    auctions_ = StreamInfo{*Schema::make({{"id", DataType::kInt64},
                                          {"seller", DataType::kInt64},
                                          {"category", DataType::kInt64},
                                          {"dateTime", DataType::kTimestamp}}),
                           3};
  }

  std::string planError(JoinKind kind, const std::string& yaml) {
    auto node = planJoin(kind, yaml, persons_, auctions_);
    EXPECT_FALSE(node.ok());
    return node.ok() ? "" : node.status().message();
  }

  StreamInfo persons_;
  StreamInfo auctions_;
};

TEST_F(JoinFactoryTest, PlansHashPartitionedKeyedNode) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node, planJoin(JoinKind::kRegular,
                                                  "{on: {left: [id], right: [seller]}, alias: {left: P, right: A},"
                                                  " select: {name: P.name, state: state, id: A.id, t: event_time}}",
                                                  persons_, auctions_));
  EXPECT_TRUE(node.keyed);
  ASSERT_EQ(node.inputs.size(), 2u);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kHash);
  EXPECT_EQ(node.inputs[0].keyColumns, std::vector<int>{0});
  EXPECT_EQ(node.inputs[1].kind, PartitionKind::kHash);
  EXPECT_EQ(node.inputs[1].keyColumns, std::vector<int>{1});
  EXPECT_EQ(node.outputs[""].schema->toString(), "name:string, state:string, id:int64, t:timestamp");
  EXPECT_EQ(node.outputs[""].eventTimeIndex, 3);
  EXPECT_NE(node.createOperator(), nullptr);
}

TEST_F(JoinFactoryTest, AcceptsShortKeySyntaxAndSelectList) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node, planJoin(JoinKind::kWindow,
                                                  "{left_key: id, right_key: seller, window: {hop: 10s, slide: 5s},"
                                                  " distinct: true, select: [left.name, right.category, window_end]}",
                                                  persons_, auctions_));
  EXPECT_EQ(node.outputs[""].schema->toString(), "name:string, category:int64, window_end:timestamp");
  EXPECT_EQ(node.outputs[""].eventTimeIndex, -1);
}

TEST_F(JoinFactoryTest, RegistersTheThreeKinds) {
  registerJoinOperators();
  for (const char* kind : {"join", "interval_join", "window_join"}) {
    NodeSpec spec;
    spec.id = "j";
    spec.options = YAML::Load(std::string("{type: ") + kind + "}");
    EXPECT_TRUE(NodeRegistry::instance().lookup(spec).ok()) << kind;
  }
}

TEST_F(JoinFactoryTest, ReportsMismatchedKeyTypes) {
  std::string message = planError(JoinKind::kRegular, "{on: {left: [name], right: [seller]}, select: [left.name]}");
  EXPECT_THAT(message, HasSubstr("node 'j'"));
  EXPECT_THAT(message, HasSubstr("left 'name' is string, right 'seller' is int64"));
}

TEST_F(JoinFactoryTest, ReportsBadReferences) {
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [id]}"),
              HasSubstr("select 'id': 'id' is ambiguous, write left.id or right.id"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [left.nam]}"),
              HasSubstr("the left input has no field 'nam'"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [X.name]}"),
              HasSubstr("unknown input 'X'"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [window_start]}"),
              HasSubstr("'window_start' exists only in a window_join"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: {a: left.id, a: right.id}}"),
              HasSubstr("select"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [idd], right: [seller]}, select: [left.id]}"),
              HasSubstr("on: the left input has no field 'idd'"));
  EXPECT_THAT(planError(JoinKind::kRegular,
                        "{on: {left: [id], right: [seller]}, alias: {left: A, right: A}, select: [left.id]}"),
              HasSubstr("alias: 'A' names both inputs"));
}

TEST_F(JoinFactoryTest, ReportsOptionsOfTheWrongKind) {
  EXPECT_THAT(planError(JoinKind::kWindow,
                        "{on: {left: [id], right: [seller]}, window: {tumble: 1s}, ttl: 1h,"
                        " select: [left.id]}"),
              HasSubstr("option 'ttl' applies to type join, not window_join"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, distinct: true, select: [left.id]}"),
              HasSubstr("option 'distinct' applies to type window_join"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [left.id], slect: 1}"),
              HasSubstr("unknown option 'slect'"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, left_key: id, select: [left.id]}"),
              HasSubstr("not both"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{select: [left.id]}"), HasSubstr("name the join keys"));
  EXPECT_THAT(planError(JoinKind::kRegular, "{on: {left: [id, name], right: [seller]}, select: [left.id]}"),
              HasSubstr("2 left key field(s) but 1 right key field(s)"));
}

TEST_F(JoinFactoryTest, ReportsBadTimeOptions) {
  EXPECT_THAT(planError(JoinKind::kInterval,
                        "{on: {left: [id], right: [seller]}, lower: 5s, upper: -5s,"
                        " select: [left.id]}"),
              HasSubstr("lower (5000ms) must not exceed upper (-5000ms)"));
  EXPECT_THAT(planError(JoinKind::kInterval,
                        "{on: {left: [id], right: [seller]}, lower: soon, upper: 1s,"
                        " select: [left.id]}"),
              HasSubstr("lower: expected a duration"));
  EXPECT_THAT(planError(JoinKind::kInterval, "{on: {left: [id], right: [seller]}, select: [left.id]}"),
              HasSubstr("needs 'lower' and 'upper'"));
  EXPECT_THAT(planError(JoinKind::kWindow, "{on: {left: [id], right: [seller]}, select: [left.id]}"),
              HasSubstr("window: required"));
  EXPECT_THAT(planError(JoinKind::kWindow,
                        "{on: {left: [id], right: [seller]}, window: {hop: 1s},"
                        " select: [left.id]}"),
              HasSubstr("'hop' needs a 'slide'"));
  EXPECT_THAT(planError(JoinKind::kWindow,
                        "{on: {left: [id], right: [seller]}, window: {hop: 1s, slide: 2s},"
                        " select: [left.id]}"),
              HasSubstr("slide must not exceed the size"));
}

TEST_F(JoinFactoryTest, NeedsTwoInputsAndEventTime) {
  NodeSpec spec;
  spec.id = "j";
  spec.options = YAML::Load("{on: {left: [id], right: [seller]}, select: [left.id]}");
  auto one = planJoinNode(JoinKind::kRegular, spec, {persons_});
  ASSERT_FALSE(one.ok());
  EXPECT_THAT(one.status().message(), HasSubstr("takes exactly two inputs"));

  StreamInfo untimed{auctions_.schema, -1};
  auto interval = planJoin(JoinKind::kInterval,
                           "{on: {left: [id], right: [seller]}, lower: 0, upper: 0,"
                           " select: [left.id]}",
                           persons_, untimed);
  ASSERT_FALSE(interval.ok());
  EXPECT_THAT(interval.status().message(), HasSubstr("interval_join needs event time on both inputs"));
  auto regular =
      planJoin(JoinKind::kRegular, "{on: {left: [id], right: [seller]}, select: [event_time]}", persons_, untimed);
  ASSERT_FALSE(regular.ok());
  EXPECT_THAT(regular.status().message(), HasSubstr("event_time needs event time on both inputs"));
}

}  // namespace
}  // namespace sluice
