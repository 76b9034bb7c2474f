// groupRowsByKey: hash, null-filter and group the rows of a batch by join key.
#include "operators/join/keyed_rows.h"

#include <unordered_map>

#include "operators/join/row_codec.h"
#include "runtime/data/key_group.h"

namespace sluice {

std::vector<KeyedRows> groupRowsByKey(const RecordBatch& batch, const std::vector<int>& keyColumns,
                                      int maxParallelism) {
  std::vector<KeyedRows> groups;
  std::unordered_map<std::string, size_t> groupOfKey;
  const std::vector<uint64_t> hashes = hashKeys(batch, keyColumns);
  std::string key;
  for (int64_t row = 0; row < batch.numRows(); ++row) {
    bool hasNull = false;
    for (int column : keyColumns) hasNull = hasNull || batch.column(column)->isNull(row);
    if (hasNull) continue;
    key.clear();
    RowCodec::encode(batch, keyColumns, row, key);
    auto [position, inserted] = groupOfKey.try_emplace(key, groups.size());
    if (inserted) groups.push_back(KeyedRows{keyGroupOf(hashes[row], maxParallelism), key, {}});
    groups[position->second].rows.push_back(static_cast<int32_t>(row));
  }
  return groups;
}

}  // namespace sluice
