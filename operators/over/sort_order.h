// Resolves the `key_by` and `order_by` options shared by the sort and over
// operators into column indices, with one-line errors naming the fields.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/schema.h"

namespace sluice::over {

/// The indices of the `key_by` fields; InvalidArgument naming an unknown field.
Result<std::vector<int>> resolveKeyColumns(const Schema& schema, const std::vector<std::string>& keyBy);

/// The tie-break columns of an `order_by` list. Rows are always ordered by
/// event time first, so a non-empty list must start with the event-time field;
/// the fields after it break ties, ascending (nulls first). Directions
/// ("desc"/"asc") are not accepted. REQUIRES: eventTimeIndex >= 0.
Result<std::vector<int>> resolveTieBreakColumns(const Schema& schema, int eventTimeIndex,
                                                const std::vector<std::string>& orderBy);

/// "a, b, c": the field names of `schema`, for messages.
std::string fieldNames(const Schema& schema);

}  // namespace sluice::over
