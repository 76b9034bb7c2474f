// CsvLineWriter: formats record batches as comma-separated lines.
#pragma once

#include <string>
#include <string_view>

#include "runtime/data/record_batch.h"

namespace sluice {

/// Formats rows as comma-separated values in schema order, without a header:
/// numbers as JsonLineWriter writes them (NaN and infinities as nan/inf),
/// bools as true/false, nulls as empty fields, and strings quoted ("" for a
/// quote) only when they hold a comma, quote or line break. Stateless and
/// thread-safe.
class CsvLineWriter {
 public:
  /// Appends one line per row of `batch` to `out`.
  static void append(const RecordBatch& batch, std::string& out);
  /// Appends one string field, quoted when needed.
  static void appendString(std::string_view text, std::string& out);
};

}  // namespace sluice
