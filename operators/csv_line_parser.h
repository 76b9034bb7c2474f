// CsvLineParser: parses comma-separated lines into the builder of their kind.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operators/line_parser.h"

namespace sluice {

/// Parses one comma-separated record per line. With one unnamed kind the
/// columns map to its schema in order; with named kinds the first column names
/// the kind and the remaining columns map to that kind's schema.
///
/// Fields may be quoted ("a, b" with "" for a quote). An empty field is null,
/// except for strings, where it is the empty string. Numbers must fill their
/// whole field; bools are true/false/1/0. A wrong column count or an
/// unparsable value is an error naming the 1-based column.
class CsvLineParser final : public LineParser {
 public:
  explicit CsvLineParser(std::vector<RecordKind> kinds);

  Result<int> parseLine(std::string_view line, size_t capacity) override;

 private:
  /// Splits `line` into columns_; unquoted values live in scratch_.
  Status split(std::string_view line);
  int findKind(std::string_view name) const;

  bool hasDiscriminator_;
  std::vector<std::string_view> columns_;
  std::string scratch_;
};

}  // namespace sluice
