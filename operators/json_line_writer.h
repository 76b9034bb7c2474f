// JsonLineWriter: formats record batches as JSON lines, fast and by hand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/data/record_batch.h"

namespace sluice {

/// Formats rows as one JSON object per line, keys in schema order:
/// int64/uint64/timestamp as integers, float64 as the shortest text that
/// parses back to the same double (NaN and infinities as null), bools, strings
/// escaped per RFC 8259 (quote, backslash and control characters; other bytes
/// pass through), null for nulls. Immutable after construction and therefore
/// safe to share between threads.
class JsonLineWriter {
 public:
  explicit JsonLineWriter(SchemaPtr schema);

  const SchemaPtr& schema() const { return schema_; }

  /// Appends one line per row of `batch` (each ending in '\n') to `out`.
  /// REQUIRES: batch.schema() equals schema().
  void append(const RecordBatch& batch, std::string& out) const;

  /// Appends `text` as a quoted, escaped JSON string.
  static void appendString(std::string_view text, std::string& out);
  /// Appends a double as a JSON number (null when not finite).
  static void appendFloat64(double value, std::string& out);

 private:
  SchemaPtr schema_;
  std::vector<std::string> keyPrefixes_;  // `{"name":` for the first field, `,"name":` after
};

}  // namespace sluice
