// RowCodec: varint-based row encoding for join state.
#include "operators/join/row_codec.h"

#include <bit>
#include <cstring>

namespace sluice {
namespace {

uint64_t zigzag(int64_t value) { return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63); }
int64_t unzigzag(uint64_t value) { return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1); }

Status corrupt(const char* what) { return Status::corruption(std::string("join state row: ") + what); }

}  // namespace

void RowCodec::appendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

bool RowCodec::readVarint(std::string_view bytes, size_t& position, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && position < bytes.size(); shift += 7) {
    auto byte = static_cast<uint8_t>(bytes[position++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

void RowCodec::appendOrderedInt64(int64_t value, std::string& out) {
  uint64_t bits = static_cast<uint64_t>(value) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((bits >> shift) & 0xff));
}

int64_t RowCodec::readOrderedInt64(std::string_view bytes) {
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
  return static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
}

void RowCodec::encode(const RecordBatch& batch, const std::vector<int>& columns, int64_t row, std::string& out) {
  const size_t bitmapStart = out.size();
  out.append((columns.size() + 7) / 8, '\0');
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& column = *batch.column(columns[i]);
    if (column.isNull(row)) {
      out[bitmapStart + i / 8] = static_cast<char>(out[bitmapStart + i / 8] | (1 << (i % 8)));
      continue;
    }
    switch (column.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp: appendVarint(zigzag(column.int64s()[row]), out); break;
      case DataType::kUInt64: appendVarint(column.uint64s()[row], out); break;
      case DataType::kFloat64: {
        uint64_t bits = std::bit_cast<uint64_t>(column.float64s()[row]);
        for (int shift = 0; shift < 64; shift += 8) out.push_back(static_cast<char>((bits >> shift) & 0xff));
        break;
      }
      case DataType::kBool: out.push_back(column.boolAt(row) ? 1 : 0); break;
      case DataType::kString: {
        std::string_view text = column.stringAt(row);
        appendVarint(text.size(), out);
        out.append(text);
        break;
      }
    }
  }
}

Status RowCodec::decode(std::string_view bytes, std::vector<ColumnBuilder>& builders) {
  const size_t bitmapSize = (builders.size() + 7) / 8;
  if (bytes.size() < bitmapSize) return corrupt("shorter than its null bitmap");
  size_t position = bitmapSize;
  for (size_t i = 0; i < builders.size(); ++i) {
    ColumnBuilder& builder = builders[i];
    if ((static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1) {
      builder.appendNull();
      continue;
    }
    uint64_t value = 0;
    switch (builder.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        if (!readVarint(bytes, position, value)) return corrupt("truncated integer");
        builder.appendInt64(unzigzag(value));
        break;
      case DataType::kUInt64:
        if (!readVarint(bytes, position, value)) return corrupt("truncated integer");
        builder.appendUInt64(value);
        break;
      case DataType::kFloat64: {
        if (bytes.size() - position < 8) return corrupt("truncated float");
        uint64_t bits = 0;
        for (int shift = 0; shift < 64; shift += 8)
          bits |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[position++])) << shift;
        builder.appendFloat64(std::bit_cast<double>(bits));
        break;
      }
      case DataType::kBool:
        if (position >= bytes.size()) return corrupt("truncated bool");
        builder.appendBool(bytes[position++] != 0);
        break;
      case DataType::kString:
        if (!readVarint(bytes, position, value) || bytes.size() - position < value) return corrupt("truncated string");
        builder.appendString(bytes.substr(position, value));
        position += value;
        break;
    }
  }
  if (position != bytes.size()) return corrupt("trailing bytes");
  return Status::OK();
}

}  // namespace sluice
