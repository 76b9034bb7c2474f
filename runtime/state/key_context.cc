#include "runtime/state/key_context.h"

#include <cstring>

#include "runtime/data/key_group.h"

namespace sluice {
namespace {

void appendLittleEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

}  // namespace

void appendSerializedKey(const RecordBatch& batch, int64_t row, const std::vector<int>& keyColumns, std::string& out) {
  for (int index : keyColumns) {
    const Column& column = *batch.column(index);
    if (column.isNull(row)) {
      out.push_back('\0');
      continue;
    }
    out.push_back('\1');
    switch (column.type()) {
      case DataType::kBool: out.push_back(column.boolAt(row) ? '\1' : '\0'); break;
      case DataType::kString: {
        std::string_view text = column.stringAt(row);
        appendLittleEndian(out, text.size(), 4);
        out.append(text);
        break;
      }
      default: {
        uint64_t bits = 0;
        std::memcpy(&bits, column.values().data() + row * 8, 8);
        appendLittleEndian(out, bits, 8);
      }
    }
  }
}

std::string serializeKey(const RecordBatch& batch, int64_t row, const std::vector<int>& keyColumns) {
  std::string out;
  appendSerializedKey(batch, row, keyColumns, out);
  return out;
}

std::vector<int> keyGroupsOf(const RecordBatch& batch, const std::vector<int>& keyColumns, int maxParallelism) {
  std::vector<uint64_t> hashes = hashKeys(batch, keyColumns);
  std::vector<int> groups(hashes.size());
  for (size_t row = 0; row < hashes.size(); ++row) groups[row] = keyGroupOf(hashes[row], maxParallelism);
  return groups;
}

}  // namespace sluice
