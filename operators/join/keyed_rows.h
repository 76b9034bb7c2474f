// KeyedRows: the rows of a batch grouped by join key, so that each key's state
// is touched once per batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/record_batch.h"

namespace sluice {

/// The rows of one batch that share a key: its key group, its encoded key
/// (RowCodec over the key columns) and the row indexes in arrival order.
struct KeyedRows {
  int keyGroup = 0;
  std::string key;
  std::vector<int32_t> rows;
};

/// Groups the rows of `batch` by the values of `keyColumns`, in order of first
/// appearance. Rows with a null in any key field are left out: SQL equality
/// never holds for null, so they can never match.
std::vector<KeyedRows> groupRowsByKey(const RecordBatch& batch, const std::vector<int>& keyColumns, int maxParallelism);

}  // namespace sluice
