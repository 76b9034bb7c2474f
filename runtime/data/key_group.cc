#include "runtime/data/key_group.h"

#include <xxhash.h>

#include <cstring>

namespace sluice {
namespace {

uint64_t hashRow(const Column& column, int64_t row) {
  if (column.isNull(row)) return XXH3_64bits(nullptr, 0);
  switch (column.type()) {
    case DataType::kBool: {
      uint8_t byte = column.boolAt(row) ? 1 : 0;
      return XXH3_64bits(&byte, 1);
    }
    case DataType::kString: {
      auto text = column.stringAt(row);
      return XXH3_64bits(text.data(), text.size());
    }
    default: return XXH3_64bits(column.values().data() + row * 8, 8);
  }
}

}  // namespace

uint64_t hashBytes(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

std::vector<uint64_t> hashKeys(const RecordBatch& batch, const std::vector<int>& keyColumns) {
  std::vector<uint64_t> hashes(static_cast<size_t>(batch.numRows()), 0);
  for (size_t k = 0; k < keyColumns.size(); ++k) {
    const Column& column = *batch.column(keyColumns[k]);
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      uint64_t part = hashRow(column, row);
      if (k == 0) {
        hashes[row] = part;
      } else {
        uint64_t pair[2] = {hashes[row], part};
        hashes[row] = XXH3_64bits(pair, sizeof(pair));
      }
    }
  }
  return hashes;
}

}  // namespace sluice
