// RowCodec: compact bytes for one row of selected columns, used for join state
// entries and join keys, and the order-preserving encoding of a timestamp prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/data/record_batch.h"

namespace sluice {

/// Encodes rows as: a null bitmap of ceil(columns / 8) bytes (bit set = null),
/// then each non-null value in column order: int64/timestamp as a zigzag
/// varint, uint64 as a varint, float64 as 8 little-endian bytes, bool as one
/// byte, string as a varint length and its bytes. Equal values give equal
/// bytes, and int64 and timestamp encode alike, so the bytes of key columns are
/// a key that both join sides agree on. Stateless and thread-safe.
class RowCodec {
 public:
  /// Appends the encoding of `columns` of row `row` of `batch` to `out`.
  static void encode(const RecordBatch& batch, const std::vector<int>& columns, int64_t row, std::string& out);

  /// Decodes one row and appends its values to `builders` (one per encoded
  /// column, of the encoded types). Corruption if the bytes do not fit.
  static Status decode(std::string_view bytes, std::vector<ColumnBuilder>& builders);

  /// 8 big-endian bytes whose byte order is the signed order of `value`.
  static void appendOrderedInt64(int64_t value, std::string& out);
  /// Reads what appendOrderedInt64 wrote. REQUIRES: bytes.size() >= 8.
  static int64_t readOrderedInt64(std::string_view bytes);

  static void appendVarint(uint64_t value, std::string& out);
  /// Reads a varint at `position` and advances it; false when the bytes end first.
  static bool readVarint(std::string_view bytes, size_t& position, uint64_t& value);
};

}  // namespace sluice
