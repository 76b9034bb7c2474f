// CsvLineWriter: simple per-cell formatting; CSV output is for humans and small tests.
#include "operators/csv_line_writer.h"

#include <charconv>

namespace sluice {

void CsvLineWriter::appendString(std::string_view text, std::string& out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void CsvLineWriter::append(const RecordBatch& batch, std::string& out) {
  char number[32];
  auto appendNumber = [&](auto value) {
    out.append(number, static_cast<size_t>(std::to_chars(number, number + sizeof(number), value).ptr - number));
  };
  for (int64_t row = 0; row < batch.numRows(); ++row) {
    for (int c = 0; c < batch.numColumns(); ++c) {
      if (c > 0) out.push_back(',');
      const Column& column = *batch.column(c);
      if (column.isNull(row)) continue;
      switch (column.type()) {
        case DataType::kInt64:
        case DataType::kTimestamp: appendNumber(column.int64s()[row]); break;
        case DataType::kUInt64: appendNumber(column.uint64s()[row]); break;
        case DataType::kFloat64: appendNumber(column.float64s()[row]); break;
        case DataType::kBool: out.append(column.boolAt(row) ? "true" : "false"); break;
        case DataType::kString: appendString(column.stringAt(row), out); break;
      }
    }
    out.push_back('\n');
  }
}

}  // namespace sluice
