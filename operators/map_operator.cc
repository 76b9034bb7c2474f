// MapOperator: compile-time checks of filter/select, and the per-batch filter and projection.
#include "operators/map_operator.h"

namespace sluice {
namespace {

/// keep[row] is 1 where the bool column is true (null counts as false).
/// Returns how many rows are kept.
int64_t selectedRows(const Column& mask, std::vector<uint8_t>& keep) {
  const int64_t numRows = mask.length();
  keep.resize(static_cast<size_t>(numRows));
  int64_t kept = 0;
  for (int64_t row = 0; row < numRows; ++row) {
    const bool selected = mask.isValid(row) && mask.boolAt(row);
    keep[row] = selected ? 1 : 0;
    kept += selected;
  }
  return kept;
}

}  // namespace

Result<std::shared_ptr<const MapProgram>> MapProgram::compile(const SchemaPtr& inputSchema, int inputEventTimeIndex,
                                                              const MapOptions& options) {
  std::shared_ptr<MapProgram> program(new MapProgram());
  if (options.filter.has_value()) {
    auto filter = compileExpression(*options.filter, *inputSchema);
    if (!filter.ok()) return filter.status().withContext("filter");
    if ((*filter)->type() != DataType::kBool) {
      return Status::typeError("filter: must be a bool expression, got " +
                               std::string(dataTypeName((*filter)->type())));
    }
    program->filter_ = *filter;
  }

  std::vector<Field> fields;
  int bareEventTime = -1;
  if (options.select.empty()) {
    program->outputSchema_ = inputSchema;
    bareEventTime = inputEventTimeIndex;
  } else {
    for (const auto& [name, text] : options.select) {
      auto expression = compileExpression(text, *inputSchema);
      if (!expression.ok()) return expression.status().withContext("select '" + name + "'");
      const int fieldIndex = (*expression)->fieldIndex();
      if (fieldIndex < 0) program->onlyFieldReferences_ = false;
      if (bareEventTime < 0 && inputEventTimeIndex >= 0 && fieldIndex == inputEventTimeIndex) {
        bareEventTime = static_cast<int>(fields.size());
      }
      fields.push_back({name, (*expression)->type()});
      program->projections_.push_back({name, *expression});
    }
    auto schema = Schema::make(std::move(fields));
    if (!schema.ok()) return schema.status().withContext("select");
    program->outputSchema_ = *schema;
  }

  program->outputEventTimeIndex_ = bareEventTime;
  if (options.eventTime.has_value()) {
    const Schema& output = *program->outputSchema_;
    auto index = output.indexOf(*options.eventTime);
    if (!index.has_value()) {
      return Status::invalidArgument("event_time: no output field '" + *options.eventTime +
                                     "' (fields: " + output.toString() + ")");
    }
    if (!isInt64Like(output.field(*index).type)) {
      return Status::typeError("event_time: field '" + *options.eventTime + "' must be int64 or timestamp, not " +
                               std::string(dataTypeName(output.field(*index).type)));
    }
    program->outputEventTimeIndex_ = *index;
  }
  return std::shared_ptr<const MapProgram>(std::move(program));
}

Result<RecordBatch> MapProgram::project(const RecordBatch& batch) const {
  if (projections_.empty()) {
    return RecordBatch(outputSchema_, batch.numRows(), batch.columns(), outputEventTimeIndex_);
  }
  std::vector<ColumnPtr> columns;
  columns.reserve(projections_.size());
  for (const auto& projection : projections_) {
    const int fieldIndex = projection.expression->fieldIndex();
    if (fieldIndex >= 0) {
      columns.push_back(batch.column(fieldIndex));
      continue;
    }
    auto column = projection.expression->evaluate(batch);
    if (!column.ok()) return column.status().withContext("select '" + projection.name + "'");
    columns.push_back(std::move(column).value());
  }
  return RecordBatch(outputSchema_, batch.numRows(), std::move(columns), outputEventTimeIndex_);
}

Result<RecordBatch> MapProgram::apply(const RecordBatch& batch) const {
  if (filter_ == nullptr) return project(batch);
  auto mask = filter_->evaluate(batch);
  if (!mask.ok()) return mask.status().withContext("filter");
  std::vector<uint8_t> keep;
  const int64_t kept = selectedRows(**mask, keep);
  if (kept == batch.numRows()) return project(batch);
  if (kept == 0) return RecordBatchBuilder(outputSchema_, outputEventTimeIndex_).finish();
  // Field references cost nothing to project, so narrowing first copies only
  // the selected columns; computed fields are cheaper on the filtered rows.
  if (onlyFieldReferences_) {
    SLUICE_ASSIGN_OR_RETURN(RecordBatch projected, project(batch));
    return projected.filter(keep);
  }
  return project(batch.filter(keep));
}

Status MapOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  SLUICE_ASSIGN_OR_RETURN(RecordBatch result, program_->apply(batch));
  if (result.numRows() == 0) return Status::OK();
  return out.emit(std::move(result));
}

}  // namespace sluice
