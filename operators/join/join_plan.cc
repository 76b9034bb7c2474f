// JoinPlan: resolves keys and select references of a join node against its inputs.
#include "operators/join/join_plan.h"

#include <algorithm>

namespace sluice {
namespace {

constexpr std::array<std::string_view, 2> kSideNames = {"left", "right"};

bool sameKeyFamily(DataType left, DataType right) { return left == right || (isInt64Like(left) && isInt64Like(right)); }

Status invalid(const std::string& message) { return Status::invalidArgument(message); }

struct Reference {
  JoinValue value = JoinValue::kLeft;
  int inputColumn = -1;  // for kLeft / kRight
};

class ReferenceResolver {
 public:
  ReferenceResolver(const JoinOptions& options, const std::array<JoinSide, 2>& sides)
      : options_(options), sides_(sides) {}

  Result<Reference> resolve(const std::string& outputName, const std::string& text) const {
    const std::string context = "select '" + outputName + "': ";
    size_t dot = text.find('.');
    if (dot != std::string::npos) {
      std::string prefix = text.substr(0, dot);
      std::string field = text.substr(dot + 1);
      for (int side = 0; side < 2; ++side) {
        if (prefix != kSideNames[side] && prefix != options_.aliases[side]) continue;
        std::optional<int> index = sides_[side].inputSchema->indexOf(field);
        if (!index.has_value()) {
          return invalid(context + "the " + std::string(kSideNames[side]) + " input has no field '" + field +
                         "' (fields: " + sides_[side].inputSchema->toString() + ")");
        }
        return Reference{side == kLeftSide ? JoinValue::kLeft : JoinValue::kRight, *index};
      }
      return invalid(context + "unknown input '" + prefix + "' in '" + text + "' (write " + describePrefixes() + ")");
    }
    if (text == "event_time") return Reference{JoinValue::kEventTime, -1};
    if (text == "window_start" || text == "window_end") {
      if (options_.kind != JoinKind::kWindow) {
        return invalid(context + "'" + text + "' exists only in a window_join");
      }
      return Reference{text == "window_start" ? JoinValue::kWindowStart : JoinValue::kWindowEnd, -1};
    }
    std::optional<int> left = sides_[kLeftSide].inputSchema->indexOf(text);
    std::optional<int> right = sides_[kRightSide].inputSchema->indexOf(text);
    if (left.has_value() && right.has_value()) {
      return invalid(context + "'" + text + "' is ambiguous, write left." + text + " or right." + text);
    }
    if (left.has_value()) return Reference{JoinValue::kLeft, *left};
    if (right.has_value()) return Reference{JoinValue::kRight, *right};
    return invalid(context + "unknown field '" + text + "' (left: " + sides_[kLeftSide].inputSchema->toString() +
                   "; right: " + sides_[kRightSide].inputSchema->toString() + ")");
  }

 private:
  std::string describePrefixes() const {
    std::string text = "left.<field> or right.<field>";
    if (!options_.aliases[0].empty()) text += ", " + options_.aliases[0] + ".<field>";
    if (!options_.aliases[1].empty()) text += ", " + options_.aliases[1] + ".<field>";
    return text;
  }

  const JoinOptions& options_;
  const std::array<JoinSide, 2>& sides_;
};

Status resolveKeys(const std::vector<std::string>& names, int side, JoinSide& out) {
  for (const std::string& name : names) {
    std::optional<int> index = out.inputSchema->indexOf(name);
    if (!index.has_value()) {
      return invalid("on: the " + std::string(kSideNames[side]) + " input has no field '" + name +
                     "' (fields: " + out.inputSchema->toString() + ")");
    }
    out.keyColumns.push_back(*index);
  }
  return Status::OK();
}

Status validateOptions(const JoinOptions& options, const StreamInfo& left, const StreamInfo& right) {
  if (options.leftKeys.empty() || options.rightKeys.empty())
    return invalid("on: a join needs key fields on both sides");
  if (options.leftKeys.size() != options.rightKeys.size()) {
    return invalid("on: " + std::to_string(options.leftKeys.size()) + " left key field(s) but " +
                   std::to_string(options.rightKeys.size()) + " right key field(s)");
  }
  if (options.select.empty()) return invalid("select: name at least one output field");
  for (int side = 0; side < 2; ++side) {
    const std::string& alias = options.aliases[side];
    if (alias.empty()) continue;
    if (alias == kSideNames[1 - side] || alias == options.aliases[1 - side]) {
      return invalid("alias: '" + alias + "' names both inputs");
    }
  }
  if (options.kind != JoinKind::kRegular) {
    const StreamInfo* inputs[2] = {&left, &right};
    for (int side = 0; side < 2; ++side) {
      if (inputs[side]->eventTimeIndex < 0) {
        return invalid(std::string(joinKindName(options.kind)) + " needs event time on both inputs; the " +
                       std::string(kSideNames[side]) + " input has none");
      }
    }
  }
  if (options.kind == JoinKind::kInterval && options.lower > options.upper) {
    return invalid("lower (" + std::to_string(options.lower) + "ms) must not exceed upper (" +
                   std::to_string(options.upper) + "ms)");
  }
  if (options.kind == JoinKind::kWindow) {
    if (options.windowSize <= 0 || options.windowSlide <= 0) return invalid("window: size and slide must be positive");
    if (options.windowSlide > options.windowSize) return invalid("window: slide must not exceed the size");
  }
  if (options.ttl.has_value() && options.ttl->count() <= 0) return invalid("ttl: must be positive");
  return Status::OK();
}

}  // namespace

std::string_view joinKindName(JoinKind kind) {
  switch (kind) {
    case JoinKind::kRegular: return "join";
    case JoinKind::kInterval: return "interval_join";
    case JoinKind::kWindow: return "window_join";
  }
  return "join";
}

Result<std::shared_ptr<const JoinPlan>> JoinPlan::make(const JoinOptions& options, const StreamInfo& left,
                                                       const StreamInfo& right) {
  SLUICE_RETURN_NOT_OK(validateOptions(options, left, right));
  std::shared_ptr<JoinPlan> plan(new JoinPlan());
  plan->options_ = options;
  const StreamInfo* inputs[2] = {&left, &right};
  for (int side = 0; side < 2; ++side) {
    JoinSide& joinSide = plan->sides_[side];
    joinSide.inputSchema = inputs[side]->schema;
    joinSide.eventTimeIndex = inputs[side]->eventTimeIndex;
    joinSide.distinct = options.distinct[side];
    SLUICE_RETURN_NOT_OK(resolveKeys(side == kLeftSide ? options.leftKeys : options.rightKeys, side, joinSide));
  }
  for (size_t k = 0; k < options.leftKeys.size(); ++k) {
    DataType leftType = left.schema->field(plan->sides_[0].keyColumns[k]).type;
    DataType rightType = right.schema->field(plan->sides_[1].keyColumns[k]).type;
    if (!sameKeyFamily(leftType, rightType)) {
      return invalid("on: key types differ: left '" + options.leftKeys[k] + "' is " +
                     std::string(dataTypeName(leftType)) + ", right '" + options.rightKeys[k] + "' is " +
                     std::string(dataTypeName(rightType)));
    }
  }

  ReferenceResolver resolver(plan->options_, plan->sides_);
  std::vector<Field> fields;
  for (const auto& [name, text] : options.select) {
    SLUICE_ASSIGN_OR_RETURN(Reference reference, resolver.resolve(name, text));
    JoinOutputColumn column{reference.value, -1};
    DataType type = DataType::kTimestamp;
    if (reference.value == JoinValue::kLeft || reference.value == JoinValue::kRight) {
      JoinSide& side = plan->sides_[reference.value == JoinValue::kLeft ? kLeftSide : kRightSide];
      auto found = std::find(side.storedColumns.begin(), side.storedColumns.end(), reference.inputColumn);
      column.storedIndex = static_cast<int>(found - side.storedColumns.begin());
      if (found == side.storedColumns.end()) side.storedColumns.push_back(reference.inputColumn);
      type = side.inputSchema->field(reference.inputColumn).type;
    } else if (reference.value == JoinValue::kEventTime) {
      if (left.eventTimeIndex < 0 || right.eventTimeIndex < 0) {
        return invalid("select '" + name + "': event_time needs event time on both inputs");
      }
      if (plan->outputEventTimeIndex_ < 0) plan->outputEventTimeIndex_ = static_cast<int>(fields.size());
    }
    plan->outputColumns_.push_back(column);
    fields.push_back(Field{name, type});
  }
  auto schema = Schema::make(std::move(fields));
  if (!schema.ok()) return schema.status().withContext("select");
  plan->outputSchema_ = *schema;

  for (JoinSide& side : plan->sides_) {
    std::vector<Field> stored;
    for (int column : side.storedColumns) stored.push_back(side.inputSchema->field(column));
    SLUICE_ASSIGN_OR_RETURN(side.storedSchema, Schema::make(std::move(stored)));
  }
  return std::shared_ptr<const JoinPlan>(std::move(plan));
}

RecordBatch JoinPlan::project(int side, const RecordBatch& batch) const {
  const JoinSide& joinSide = sides_[side];
  std::vector<ColumnPtr> columns;
  columns.reserve(joinSide.storedColumns.size());
  for (int column : joinSide.storedColumns) columns.push_back(batch.column(column));
  return RecordBatch(joinSide.storedSchema, batch.numRows(), std::move(columns));
}

RecordBatch JoinPlan::assemble(const RecordBatch& leftRows, const RecordBatch& rightRows,
                               const JoinMatches& matches) const {
  const auto numRows = static_cast<int64_t>(matches.size());
  RecordBatch left = sides_[kLeftSide].storedColumns.empty() ? RecordBatch() : leftRows.take(matches.leftRows);
  RecordBatch right = sides_[kRightSide].storedColumns.empty() ? RecordBatch() : rightRows.take(matches.rightRows);
  std::vector<ColumnPtr> columns;
  columns.reserve(outputColumns_.size());
  for (const JoinOutputColumn& output : outputColumns_) {
    switch (output.value) {
      case JoinValue::kLeft: columns.push_back(left.column(output.storedIndex)); continue;
      case JoinValue::kRight: columns.push_back(right.column(output.storedIndex)); continue;
      default: break;
    }
    ColumnBuilder builder(DataType::kTimestamp);
    builder.reserve(numRows);
    for (size_t i = 0; i < matches.size(); ++i) {
      switch (output.value) {
        case JoinValue::kEventTime: builder.appendInt64(matches.eventTimes[i]); break;
        case JoinValue::kWindowStart: builder.appendInt64(matches.windowStarts[i]); break;
        default: builder.appendInt64(matches.windowStarts[i] + options_.windowSize); break;
      }
    }
    columns.push_back(builder.finish());
  }
  return RecordBatch(outputSchema_, numRows, std::move(columns), outputEventTimeIndex_);
}

}  // namespace sluice
