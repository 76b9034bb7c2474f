// RecordBatch: rows of one schema held as columns; the unit every operator processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/column.h"
#include "runtime/data/column_builder.h"
#include "runtime/data/schema.h"

namespace sluice {

/// An immutable set of rows: a schema, one Column per field and the index of the
/// event-time field (-1 when the stream has none). Columns are shared, so
/// projecting or passing a batch along a chain costs no copy.
class RecordBatch {
 public:
  RecordBatch() = default;
  RecordBatch(SchemaPtr schema, int64_t numRows, std::vector<ColumnPtr> columns, int eventTimeIndex = -1)
      : schema_(std::move(schema)), numRows_(numRows), columns_(std::move(columns)), eventTimeIndex_(eventTimeIndex) {}

  /// Checks that columns match the schema in count, type and length.
  static Result<RecordBatch> make(SchemaPtr schema, std::vector<ColumnPtr> columns, int eventTimeIndex = -1);

  const SchemaPtr& schema() const { return schema_; }
  int64_t numRows() const { return numRows_; }
  int numColumns() const { return static_cast<int>(columns_.size()); }
  const ColumnPtr& column(int index) const { return columns_[index]; }
  const std::vector<ColumnPtr>& columns() const { return columns_; }
  /// The column called `name`, or nullptr.
  ColumnPtr columnByName(std::string_view name) const;
  int eventTimeIndex() const { return eventTimeIndex_; }
  /// REQUIRES: eventTimeIndex() >= 0.
  const int64_t* eventTimes() const { return columns_[eventTimeIndex_]->int64s(); }

  /// The rows at `rows` (in that order, repeats allowed).
  RecordBatch take(const std::vector<int32_t>& rows) const;
  /// Rows [offset, offset + count).
  RecordBatch slice(int64_t offset, int64_t count) const;
  /// The rows where `keep[row]` is non-zero.
  RecordBatch filter(const std::vector<uint8_t>& keep) const;
  /// Appends batches of one schema into one; REQUIRES: batches non-empty, same schema.
  static RecordBatch concat(const std::vector<RecordBatch>& batches);

  /// Approximate bytes held by the columns (for buffer sizing).
  int64_t byteSize() const;

 private:
  SchemaPtr schema_;
  int64_t numRows_ = 0;
  std::vector<ColumnPtr> columns_;
  int eventTimeIndex_ = -1;
};

/// Builds a batch row by row or column by column for one schema.
class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(SchemaPtr schema, int eventTimeIndex = -1);
  ColumnBuilder& column(int index) { return builders_[index]; }
  int64_t numRows() const { return builders_.empty() ? 0 : builders_[0].length(); }
  void reserve(int64_t rows);
  /// Freezes the columns into a batch and resets the builder. REQUIRES: every
  /// column has the same length.
  RecordBatch finish();

 private:
  SchemaPtr schema_;
  int eventTimeIndex_;
  std::vector<ColumnBuilder> builders_;
};

}  // namespace sluice
