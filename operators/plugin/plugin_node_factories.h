// Planner factories of the `process` and `plugin` node kinds: resolve the
// plugin and its function or operator, hand it the node's options and inputs,
// and turn its answer into a PlannedNode.
#pragma once

#include <vector>

#include "runtime/job/node_factory.h"

namespace sluice {

/// `{type: process, plugin: P, function: F, key_by: field|[fields], ...}`:
/// keyed process function F of plugin P (or of the built-in set when `plugin`
/// is absent) over one input, hash-partitioned by key_by, keyed. Every other
/// key goes to the function's factory as PluginOptions.
Result<PlannedNode> planProcessNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context);

/// `{type: plugin, plugin: P, operator: O, [key_by: ...], ...}`: operator O
/// of plugin P over any number of inputs; with key_by the inputs are
/// hash-partitioned and the node is keyed. When O names a process function the
/// node is planned as `type: process`.
Result<PlannedNode> planPluginNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                   const PlanContext& context);

}  // namespace sluice
