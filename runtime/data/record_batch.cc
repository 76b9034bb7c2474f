#include "runtime/data/record_batch.h"

namespace sluice {

Result<RecordBatch> RecordBatch::make(SchemaPtr schema, std::vector<ColumnPtr> columns, int eventTimeIndex) {
  if (static_cast<int>(columns.size()) != schema->numFields()) {
    return Status::invalidArgument("batch has " + std::to_string(columns.size()) + " columns but schema has " +
                                   std::to_string(schema->numFields()) + " fields");
  }
  int64_t numRows = columns.empty() ? 0 : columns[0]->length();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i]->type() != schema->field(static_cast<int>(i)).type) {
      return Status::typeError("column '" + schema->field(static_cast<int>(i)).name + "' has type " +
                               std::string(dataTypeName(columns[i]->type())) + ", schema says " +
                               std::string(dataTypeName(schema->field(static_cast<int>(i)).type)));
    }
    if (columns[i]->length() != numRows) {
      return Status::invalidArgument("column '" + schema->field(static_cast<int>(i)).name + "' has " +
                                     std::to_string(columns[i]->length()) + " rows, expected " +
                                     std::to_string(numRows));
    }
  }
  if (eventTimeIndex >= schema->numFields() ||
      (eventTimeIndex >= 0 && !isInt64Like(schema->field(eventTimeIndex).type))) {
    return Status::invalidArgument("event-time column index out of range or not an integer");
  }
  return RecordBatch(std::move(schema), numRows, std::move(columns), eventTimeIndex);
}

ColumnPtr RecordBatch::columnByName(std::string_view name) const {
  auto index = schema_->indexOf(name);
  return index ? columns_[*index] : nullptr;
}

RecordBatch RecordBatch::take(const std::vector<int32_t>& rows) const {
  std::vector<ColumnPtr> out;
  out.reserve(columns_.size());
  for (const auto& column : columns_) {
    ColumnBuilder builder(column->type());
    builder.reserve(static_cast<int64_t>(rows.size()));
    if (!column->hasNulls() && column->type() != DataType::kBool && column->type() != DataType::kString) {
      const auto* values = column->values().as<uint64_t>();
      for (int32_t row : rows) builder.appendUInt64(values[row]);
    } else {
      for (int32_t row : rows) builder.appendFrom(*column, row);
    }
    auto built = builder.finish();
    // appendUInt64 keeps the raw bits; restore the logical type.
    out.push_back(std::make_shared<const Column>(column->type(), built->length(), built->values(), built->data(),
                                                 built->validity(), built->nullCount()));
  }
  return RecordBatch(schema_, static_cast<int64_t>(rows.size()), std::move(out), eventTimeIndex_);
}

RecordBatch RecordBatch::slice(int64_t offset, int64_t count) const {
  if (offset == 0 && count == numRows_) return *this;
  std::vector<ColumnPtr> out;
  out.reserve(columns_.size());
  for (const auto& column : columns_) {
    ColumnBuilder builder(column->type());
    builder.reserve(count);
    builder.appendRange(*column, offset, count);
    out.push_back(builder.finish());
  }
  return RecordBatch(schema_, count, std::move(out), eventTimeIndex_);
}

RecordBatch RecordBatch::filter(const std::vector<uint8_t>& keep) const {
  std::vector<int32_t> rows;
  rows.reserve(keep.size());
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) rows.push_back(static_cast<int32_t>(i));
  }
  if (static_cast<int64_t>(rows.size()) == numRows_) return *this;
  return take(rows);
}

RecordBatch RecordBatch::concat(const std::vector<RecordBatch>& batches) {
  SLUICE_CHECK(!batches.empty(), "concat of no batches");
  if (batches.size() == 1) return batches[0];
  const RecordBatch& first = batches[0];
  int64_t total = 0;
  for (const auto& batch : batches) total += batch.numRows();
  std::vector<ColumnPtr> out;
  for (int c = 0; c < first.numColumns(); ++c) {
    ColumnBuilder builder(first.column(c)->type());
    builder.reserve(total);
    for (const auto& batch : batches) builder.appendRange(*batch.column(c), 0, batch.numRows());
    out.push_back(builder.finish());
  }
  return RecordBatch(first.schema_, total, std::move(out), first.eventTimeIndex_);
}

int64_t RecordBatch::byteSize() const {
  int64_t bytes = 0;
  for (const auto& column : columns_) {
    bytes += static_cast<int64_t>(column->values().size() + column->data().size() + column->validity().size());
  }
  return bytes;
}

RecordBatchBuilder::RecordBatchBuilder(SchemaPtr schema, int eventTimeIndex)
    : schema_(std::move(schema)), eventTimeIndex_(eventTimeIndex) {
  builders_.reserve(schema_->numFields());
  for (const auto& field : schema_->fields()) builders_.emplace_back(field.type);
}

void RecordBatchBuilder::reserve(int64_t rows) {
  for (auto& builder : builders_) builder.reserve(rows);
}

RecordBatch RecordBatchBuilder::finish() {
  int64_t rows = numRows();
  std::vector<ColumnPtr> columns;
  columns.reserve(builders_.size());
  for (auto& builder : builders_) {
    SLUICE_CHECK_EQ(builder.length(), rows);
    columns.push_back(builder.finish());
  }
  return RecordBatch(schema_, rows, std::move(columns), eventTimeIndex_);
}

}  // namespace sluice
