// Test-only batch building and printing for the window tests.
#include "tests/window/batch_rows.h"

#include <algorithm>

#include "runtime/base/check.h"

namespace sluice::window::testing {

SchemaPtr makeSchema(std::vector<Field> fields) { return Schema::make(std::move(fields)).value(); }

RecordBatch makeBatch(const SchemaPtr& schema, int eventTimeIndex, const std::vector<std::vector<Value>>& rows) {
  RecordBatchBuilder builder(schema, eventTimeIndex);
  for (const auto& row : rows) {
    SLUICE_CHECK_EQ(static_cast<int>(row.size()), schema->numFields());
    for (int i = 0; i < schema->numFields(); ++i) {
      ColumnBuilder& column = builder.column(i);
      const Value& value = row[i];
      if (std::holds_alternative<std::monostate>(value)) {
        column.appendNull();
      } else if (const auto* integer = std::get_if<int64_t>(&value)) {
        if (schema->field(i).type == DataType::kFloat64) {
          column.appendFloat64(static_cast<double>(*integer));
        } else if (schema->field(i).type == DataType::kUInt64) {
          column.appendUInt64(static_cast<uint64_t>(*integer));
        } else {
          column.appendInt64(*integer);
        }
      } else if (const auto* number = std::get_if<double>(&value)) {
        column.appendFloat64(*number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        column.appendString(*text);
      } else {
        column.appendBool(std::get<bool>(value));
      }
    }
  }
  return builder.finish();
}

std::vector<std::string> rowsOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      std::string text;
      for (int i = 0; i < batch.numColumns(); ++i) {
        const Column& column = *batch.column(i);
        text += (i == 0 ? "" : " ") + batch.schema()->field(i).name + "=";
        if (column.isNull(row)) {
          text += "null";
          continue;
        }
        switch (column.type()) {
          case DataType::kBool: text += column.boolAt(row) ? "true" : "false"; break;
          case DataType::kString: text += std::string(column.stringAt(row)); break;
          case DataType::kFloat64: {
            char buffer[64];
            std::snprintf(buffer, sizeof(buffer), "%g", column.float64s()[row]);
            text += buffer;
            break;
          }
          case DataType::kUInt64: text += std::to_string(column.uint64s()[row]); break;
          default: text += std::to_string(column.int64s()[row]); break;
        }
      }
      rows.push_back(std::move(text));
    }
  }
  return rows;
}

std::vector<std::string> sortedRowsOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows = rowsOf(batches);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::unique_ptr<KeyedStateBackend> makeBackend(const std::string& type, const std::string& directory, int first,
                                               int last) {
  StateBackendOptions options;
  options.type = type;
  options.directory = directory;
  options.keyGroups = KeyGroupRange{first, last};
  options.maxParallelism = 128;
  auto backend = createKeyedStateBackend(options);
  SLUICE_CHECK(backend.ok(), backend.status().toString());
  return std::move(backend).value();
}

}  // namespace sluice::window::testing
