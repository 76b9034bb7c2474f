// Shared row staging for the line parsers.
#include "operators/line_parser.h"

#include <algorithm>

namespace sluice {

LineParser::LineParser(std::vector<RecordKind> kinds) : kinds_(std::move(kinds)) {
  size_t widest = 0;
  builders_.reserve(kinds_.size());
  for (const auto& kind : kinds_) {
    builders_.emplace_back(kind.schema, kind.eventTimeIndex);
    widest = std::max(widest, static_cast<size_t>(kind.schema->numFields()));
  }
  staged_.resize(widest);
}

int64_t LineParser::bufferedRows() const {
  int64_t rows = 0;
  for (const auto& builder : builders_) rows += builder.numRows();
  return rows;
}

void LineParser::beginRow(int kind) {
  const int numFields = kinds_[kind].schema->numFields();
  for (int i = 0; i < numFields; ++i) staged_[i].present = false;
}

Status LineParser::commitRow(int kind) {
  const RecordKind& recordKind = kinds_[kind];
  if (recordKind.eventTimeIndex >= 0 && !staged_[recordKind.eventTimeIndex].present) {
    return Status::parseError("field '" + recordKind.schema->field(recordKind.eventTimeIndex).name +
                              "' (the event time) is missing or null");
  }
  RecordBatchBuilder& builder = builders_[kind];
  const int numFields = recordKind.schema->numFields();
  for (int i = 0; i < numFields; ++i) {
    ColumnBuilder& column = builder.column(i);
    const StagedValue& value = staged_[i];
    if (!value.present) {
      column.appendNull();
      continue;
    }
    switch (column.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp: column.appendInt64(value.int64Value); break;
      case DataType::kUInt64: column.appendUInt64(value.uint64Value); break;
      case DataType::kFloat64: column.appendFloat64(value.float64Value); break;
      case DataType::kBool: column.appendBool(value.boolValue); break;
      case DataType::kString: column.appendString(value.stringValue); break;
    }
  }
  return Status::OK();
}

}  // namespace sluice
