// Planner factories for the join node kinds `join`, `interval_join` and `window_join`.
#pragma once

#include <vector>

#include "operators/join/join_plan.h"
#include "runtime/job/node_factory.h"

namespace sluice {

/// Reads a join node's options (see README.md) for `kind`. Errors are one line
/// and name the node and option: "node 'q3': on: give 'on' or 'left_key'/'right_key', not both".
Result<JoinOptions> parseJoinOptions(const NodeSpec& spec, JoinKind kind);

/// Plans a join node of `kind`: exactly two inputs (left, right), both
/// hash-partitioned by their key fields, keyed state, output schema from
/// `select`. Errors name the node.
Result<PlannedNode> planJoinNode(JoinKind kind, const NodeSpec& spec, const std::vector<StreamInfo>& inputs);

/// NodeFactory entry points, one per kind.
Result<PlannedNode> planRegularJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                        const PlanContext& context);
Result<PlannedNode> planIntervalJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                         const PlanContext& context);
Result<PlannedNode> planWindowJoinNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                       const PlanContext& context);

}  // namespace sluice
