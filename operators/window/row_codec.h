// Byte encodings of rows used by the window operators: a compact row format for
// keys and stored rows, and a memcmp-comparable sort-key format for ranking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/record_batch.h"

namespace sluice::window {

/// Appends the values of `columns` of row `row` to `out`: per column one flag
/// byte (0 null, 1 present) then 8 little-endian bytes for 8-byte types, one
/// byte for bool, or a 4-byte length and the bytes for strings. Used for state
/// keys (so a single int64 key is 9 bytes and fits std::string's inline buffer)
/// and for rows kept in state. Stable across versions: it is persisted.
void encodeRow(const RecordBatch& batch, int64_t row, const std::vector<int>& columns, std::string& out);

/// Reads one row written by encodeRow for columns of `types` from the front of
/// `in` (advancing it) and appends value i to `*builders[i]`.
/// Fails with Corruption on malformed bytes.
Status decodeRow(std::string_view& in, const std::vector<DataType>& types, std::vector<ColumnBuilder*>& builders);

/// One column of a ranking order and its direction.
struct SortField {
  int column = 0;
  bool descending = false;
};

/// Appends a sort key for row `row`: byte strings whose memcmp order is the
/// row order under `fields` (nulls first ascending, last descending, as Flink
/// SQL), and which are equal exactly when every ordering value is equal.
void appendSortKey(const RecordBatch& batch, int64_t row, const std::vector<SortField>& fields, std::string& out);

/// Fixed-width helpers for the encodings above (little-endian for values,
/// big-endian where byte order must follow numeric order).
void appendInt64BigEndianOrdered(std::string& out, int64_t value);
int64_t readInt64BigEndianOrdered(const char* data);
void appendUInt32(std::string& out, uint32_t value);
/// Reads a length-prefixed (appendUInt32) byte string from the front of `in`; false when truncated.
bool readLengthPrefixed(std::string_view& in, std::string_view& value);
void appendLengthPrefixed(std::string& out, std::string_view value);

}  // namespace sluice::window
