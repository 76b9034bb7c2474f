// Planner factories for the `sort` and `over` node kinds: YAML options →
// compiled programs → one operator per subtask.
#pragma once

#include <vector>

#include "operators/over/over_aggregate_operator.h"
#include "operators/over/sort_operator.h"
#include "runtime/job/node_factory.h"

namespace sluice::over {

/// Reads a sort node's `key_by` and `order_by`.
Result<SortOptions> parseSortOptions(const NodeSpec& spec);
/// Reads an over node's `key_by`, `order_by`, `ties` and `aggregates`.
Result<OverOptions> parseOverOptions(const NodeSpec& spec);

/// NodeFactory for `type: sort`: one input; keyed (hash by key_by) or global
/// (parallelism 1); outputs "" (the sorted input stream) and "late".
Result<PlannedNode> planSortNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context);
/// NodeFactory for `type: over`: one input; keyed (hash by key_by) or global
/// (parallelism 1); outputs "" (input fields + aggregates) and "late".
Result<PlannedNode> planOverNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context);

}  // namespace sluice::over
