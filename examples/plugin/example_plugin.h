// The example plugin's parts: a keyed deduplication function, a pass-through
// operator that adds a constant column, and the geometric-mean aggregate.
#pragma once

#include <sluice/plugin.h>

namespace sluice::example {

/// `dedup`: keeps the first row per key within `ttl` of event time. Rows are
/// held until the watermark passes them and then decided in event-time order
/// (ties by row bytes), so the result does not depend on arrival order or
/// parallelism. Options: `ttl` (duration, required). Outputs: the input
/// schema; side outputs `duplicates` (rows within the TTL of a kept one) and
/// `late` (rows at or behind the watermark on arrival).
Result<ProcessFunctionPlan> planDedup(ProcessFunctionRequest& request);

/// `label`: one input, passes every row through and appends a string column.
/// Options: `value` (required), `field` (default "label").
Result<OperatorPlan> planLabel(OperatorRequest& request);

/// `geomean(x)`: the geometric mean (float64) of the positive, non-null values
/// of a numeric argument, computed as pow(2, mean of log2 x); null when there are none.
Result<window::AggregateFunctionPtr> createGeomean(std::optional<DataType> argumentType);

}  // namespace sluice::example
