// Planner factory for the built-in `map` node kind (filter and/or select).
#pragma once

#include <vector>

#include "operators/map_operator.h"
#include "runtime/job/node_factory.h"

namespace sluice {

/// Reads a map node's `filter` (alias `where`), `select` (a mapping of output
/// names to expressions, or a list of field names) and `event_time`.
Result<MapOptions> parseMapOptions(const NodeSpec& spec);

/// NodeFactory for the `map` kind: exactly one input, forward partitioning,
/// output schema from the expressions. Errors name the node:
/// "node 'q2': filter: at column 9: unknown field 'auctoin' (...)".
Result<PlannedNode> planMapNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                const PlanContext& context);

}  // namespace sluice
