// Planner factories for the `window` and `window_top_n` node kinds: YAML
// options → compiled programs → one operator per subtask.
#pragma once

#include <vector>

#include "operators/window/node_option_reader.h"
#include "operators/window/window_aggregate_operator.h"
#include "operators/window/window_top_n_operator.h"
#include "runtime/job/node_factory.h"

namespace sluice::window {

/// Reads `{tumble: 10s}`, `{hop: 10s, slide: 2s}` or `{session: 10s}`.
Result<WindowSpec> parseWindowSpec(NodeOptionReader& reader);

/// Reads a window node's `key_by`, `window`, `allowed_lateness` and `aggregate`.
Result<WindowAggregateOptions> parseWindowAggregateOptions(const NodeSpec& spec);
/// Reads a window_top_n node's `order_by`, `limit`, `with_ties`, `partition_by` and `window`.
Result<WindowTopNOptions> parseWindowTopNOptions(const NodeSpec& spec);

/// NodeFactory for `type: window`: one input; keyed (hash by key_by) or global
/// (parallelism 1); outputs "" (results) and "late" (the input's stream info).
Result<PlannedNode> planWindowAggregateNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                            const PlanContext& context);
/// NodeFactory for `type: window_top_n`: one input; keyed by partition_by (plus
/// window_start when reading window bounds from the input), else global.
Result<PlannedNode> planWindowTopNNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                       const PlanContext& context);

}  // namespace sluice::window
