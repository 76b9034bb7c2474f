// LineParser: turns the text lines of one input format into rows of per-kind batch builders.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "operators/record_kind.h"
#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice {

/// Parses one line at a time and appends the row to the builder of the line's
/// kind. A line either appends exactly one row or none: errors and lines of an
/// unknown kind leave every builder untouched, so a caller may skip them.
/// Not thread-safe; each source reader owns its parser.
class LineParser {
 public:
  /// Returned by parseLine for a line whose discriminator names no declared kind.
  static constexpr int kUnknownKind = -1;
  /// Bytes that must be readable after the end of every line passed to
  /// parseLine (simdjson reads ahead in whole blocks). Their content is ignored.
  static constexpr size_t kPadding = 64;

  explicit LineParser(std::vector<RecordKind> kinds);
  virtual ~LineParser() = default;

  /// Parses `line` (without its line terminator). REQUIRES: `capacity >=
  /// line.size() + kPadding` readable bytes start at `line.data()`. Returns the
  /// index of the kind the row was appended to, or kUnknownKind. An error's
  /// message is the reason alone (e.g. "field 'price': expected int64, got
  /// string"); the reader prefixes the file and line.
  virtual Result<int> parseLine(std::string_view line, size_t capacity) = 0;

  const std::vector<RecordKind>& kinds() const { return kinds_; }
  int numKinds() const { return static_cast<int>(kinds_.size()); }
  /// The rows parsed so far for kind `kind`.
  RecordBatchBuilder& builder(int kind) { return builders_[kind]; }
  /// Rows buffered over all kinds.
  int64_t bufferedRows() const;

 protected:
  /// One field's value of the row being parsed, held until the whole line is
  /// known to be good. Strings point into the line or the parser's scratch
  /// space and must stay valid until commitRow.
  struct StagedValue {
    bool present = false;
    union {
      int64_t int64Value;
      uint64_t uint64Value;
      double float64Value;
      bool boolValue;
    };
    std::string_view stringValue;
  };

  /// Marks every field of kind `kind` absent before a line is parsed.
  void beginRow(int kind);
  /// Appends the staged row to kind `kind`'s builder (absent fields as nulls).
  /// Fails, appending nothing, when the kind's event-time field is absent.
  Status commitRow(int kind);

  std::vector<RecordKind> kinds_;
  std::vector<RecordBatchBuilder> builders_;
  std::vector<StagedValue> staged_;  // sized for the widest kind
};

}  // namespace sluice
