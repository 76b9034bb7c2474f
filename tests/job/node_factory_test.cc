// Tests for NodeRegistry lookups and operator kind inference.
#include "runtime/job/node_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

NodeSpec makeSpec(NodeRole role, const std::string& yaml) {
  NodeSpec spec;
  spec.role = role;
  spec.options = YAML::Load(yaml);
  spec.id = spec.options["id"].as<std::string>();
  spec.line = 7;
  return spec;
}

/// A factory that plans a node whose id is `marker`, so a test can tell factories apart.
NodeFactory markerFactory(const std::string& marker) {
  return [marker](const NodeSpec&, const std::vector<StreamInfo>&, const PlanContext&) -> Result<PlannedNode> {
    PlannedNode node;
    node.id = marker;
    return node;
  };
}

std::string plannedIdOf(const NodeFactory& factory, const NodeSpec& spec) {
  Result<PlannedNode> node = factory(spec, {}, PlanContext{});
  return node.ok() ? node->id : node.status().toString();
}

TEST(NodeFactoryTest, InfersOperatorKinds) {
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, type: window, filter: x}")), "window");
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, filter: 'x > 1'}")), "map");
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, select: {x: x}}")), "map");
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, where: 'x > 1'}")), "map");
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, key_by: x}")), "");
  EXPECT_EQ(operatorKindOf(makeSpec(NodeRole::kOperator, "{id: a, type: [x]}")), "");
}

TEST(NodeFactoryTest, LooksUpEachRoleInItsOwnTable) {
  NodeRegistry registry;
  registry.registerSource("file", markerFactory("file source"));
  registry.registerSink("file", markerFactory("file sink"));
  registry.registerOperator("map", markerFactory("map"));
  registry.registerOperator("window", markerFactory("window"));

  NodeSpec source = makeSpec(NodeRole::kSource, "{id: s, type: file}");
  NodeSpec sink = makeSpec(NodeRole::kSink, "{id: o, type: file}");
  NodeSpec map = makeSpec(NodeRole::kOperator, "{id: m, filter: 'x > 1'}");
  NodeSpec window = makeSpec(NodeRole::kOperator, "{id: w, type: window}");
  ASSERT_OK_AND_ASSIGN(NodeFactory sourceFactory, registry.lookup(source));
  EXPECT_EQ(plannedIdOf(sourceFactory, source), "file source");
  ASSERT_OK_AND_ASSIGN(NodeFactory sinkFactory, registry.lookup(sink));
  EXPECT_EQ(plannedIdOf(sinkFactory, sink), "file sink");
  ASSERT_OK_AND_ASSIGN(NodeFactory mapFactory, registry.lookup(map));
  EXPECT_EQ(plannedIdOf(mapFactory, map), "map");
  ASSERT_OK_AND_ASSIGN(NodeFactory windowFactory, registry.lookup(window));
  EXPECT_EQ(plannedIdOf(windowFactory, window), "window");

  // Registering again replaces the factory.
  registry.registerOperator("window", markerFactory("window v2"));
  ASSERT_OK_AND_ASSIGN(NodeFactory replaced, registry.lookup(window));
  EXPECT_EQ(plannedIdOf(replaced, window), "window v2");
}

TEST(NodeFactoryTest, LookupErrorsNameTheNodeLineAndKnownTypes) {
  NodeRegistry registry;
  registry.registerSource("file", markerFactory("file"));
  registry.registerSource("generator", markerFactory("generator"));
  registry.registerOperator("map", markerFactory("map"));

  Result<NodeFactory> unknownSource = registry.lookup(makeSpec(NodeRole::kSource, "{id: s, type: kafka}"));
  EXPECT_EQ(unknownSource.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknownSource.status().message(),
            "source 's' (line 7): unknown source type 'kafka'; known source types: file, generator");
  EXPECT_EQ(registry.lookup(makeSpec(NodeRole::kSource, "{id: s}")).status().message(),
            "source 's' (line 7) needs a 'type'; known source types: file, generator");
  EXPECT_EQ(registry.lookup(makeSpec(NodeRole::kSink, "{id: o, type: file}")).status().message(),
            "sink 'o' (line 7): unknown sink type 'file'; known sink types: (none registered)");
  EXPECT_EQ(registry.lookup(makeSpec(NodeRole::kOperator, "{id: n, type: joinn}")).status().message(),
            "node 'n' (line 7): unknown operator type 'joinn'; known operator types: map");
  EXPECT_EQ(registry.lookup(makeSpec(NodeRole::kOperator, "{id: n, key_by: x}")).status().message(),
            "node 'n' (line 7) has no 'type' and none of the keys filter, select, where that imply 'map'; known "
            "operator types: map");
}

TEST(NodeFactoryTest, InstanceIsOneRegistry) {
  EXPECT_EQ(&NodeRegistry::instance(), &NodeRegistry::instance());
  NodeRegistry::instance().registerSink("node-factory-test-sink", markerFactory("test"));
  NodeSpec sink = makeSpec(NodeRole::kSink, "{id: o, type: node-factory-test-sink}");
  ASSERT_OK_AND_ASSIGN(NodeFactory factory, NodeRegistry::instance().lookup(sink));
  EXPECT_EQ(plannedIdOf(factory, sink), "test");
}

}  // namespace
}  // namespace sluice
