// Column resolution for key_by and order_by.
#include "operators/over/sort_order.h"

namespace sluice::over {

std::string fieldNames(const Schema& schema) {
  std::string names;
  for (const Field& field : schema.fields()) names += (names.empty() ? "" : ", ") + field.name;
  return names;
}

Result<std::vector<int>> resolveKeyColumns(const Schema& schema, const std::vector<std::string>& keyBy) {
  std::vector<int> columns;
  for (const std::string& name : keyBy) {
    std::optional<int> index = schema.indexOf(name);
    if (!index.has_value()) {
      return Status::invalidArgument("key_by: unknown field '" + name + "' (fields: " + fieldNames(schema) + ")");
    }
    columns.push_back(*index);
  }
  return columns;
}

Result<std::vector<int>> resolveTieBreakColumns(const Schema& schema, int eventTimeIndex,
                                                const std::vector<std::string>& orderBy) {
  std::vector<int> columns;
  if (orderBy.empty()) return columns;
  const std::string& eventTime = schema.field(eventTimeIndex).name;
  if (orderBy.front() != eventTime) {
    return Status::invalidArgument("order_by must start with the event-time field '" + eventTime + "', not '" +
                                   orderBy.front() + "' (rows are ordered by event time; later fields break ties)");
  }
  for (size_t i = 1; i < orderBy.size(); ++i) {
    const std::string& name = orderBy[i];
    if (name.find_first_of(" \t,") != std::string::npos) {
      return Status::invalidArgument("order_by: '" + name +
                                     "' must be a plain field name (tie-breaks are ascending; list fields separately)");
    }
    std::optional<int> index = schema.indexOf(name);
    if (!index.has_value()) {
      return Status::invalidArgument("order_by: unknown field '" + name + "' (fields: " + fieldNames(schema) + ")");
    }
    columns.push_back(*index);
  }
  return columns;
}

}  // namespace sluice::over
