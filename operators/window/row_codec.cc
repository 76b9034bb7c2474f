// Row and sort-key encodings for window state and ranking.
#include "operators/window/row_codec.h"

#include <bit>
#include <cstring>

namespace sluice::window {
namespace {

void appendFixed64(std::string& out, uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);  // little-endian hosts only, as the rest of the engine
  out.append(bytes, 8);
}

uint64_t readFixed64(const char* data) {
  uint64_t value;
  std::memcpy(&value, data, 8);
  return value;
}

void appendBigEndian64(std::string& out, uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (56 - 8 * i));
  out.append(bytes, 8);
}

uint64_t readBigEndian64(const char* data) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(data[i]);
  return value;
}

}  // namespace

void appendUInt32(std::string& out, uint32_t value) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}

void appendLengthPrefixed(std::string& out, std::string_view value) {
  appendUInt32(out, static_cast<uint32_t>(value.size()));
  out.append(value);
}

bool readLengthPrefixed(std::string_view& in, std::string_view& value) {
  if (in.size() < 4) return false;
  uint32_t length;
  std::memcpy(&length, in.data(), 4);
  if (in.size() - 4 < length) return false;
  value = in.substr(4, length);
  in.remove_prefix(4 + static_cast<size_t>(length));
  return true;
}

void appendInt64BigEndianOrdered(std::string& out, int64_t value) {
  appendBigEndian64(out, static_cast<uint64_t>(value) ^ (uint64_t{1} << 63));
}

int64_t readInt64BigEndianOrdered(const char* data) {
  return static_cast<int64_t>(readBigEndian64(data) ^ (uint64_t{1} << 63));
}

void encodeRow(const RecordBatch& batch, int64_t row, const std::vector<int>& columns, std::string& out) {
  for (int index : columns) {
    const Column& column = *batch.column(index);
    if (column.isNull(row)) {
      out.push_back('\0');
      continue;
    }
    out.push_back('\1');
    switch (column.type()) {
      case DataType::kBool: out.push_back(column.boolAt(row) ? '\1' : '\0'); break;
      case DataType::kString: appendLengthPrefixed(out, column.stringAt(row)); break;
      default: appendFixed64(out, column.values().as<uint64_t>()[row]); break;
    }
  }
}

Status decodeRow(std::string_view& in, const std::vector<DataType>& types, std::vector<ColumnBuilder*>& builders) {
  for (size_t i = 0; i < types.size(); ++i) {
    ColumnBuilder& builder = *builders[i];
    if (in.empty()) return Status::corruption("window state: truncated row");
    char flag = in.front();
    in.remove_prefix(1);
    if (flag == '\0') {
      builder.appendNull();
      continue;
    }
    switch (types[i]) {
      case DataType::kBool:
        if (in.empty()) return Status::corruption("window state: truncated bool");
        builder.appendBool(in.front() != '\0');
        in.remove_prefix(1);
        break;
      case DataType::kString: {
        std::string_view value;
        if (!readLengthPrefixed(in, value)) return Status::corruption("window state: truncated string");
        builder.appendString(value);
        break;
      }
      default: {
        if (in.size() < 8) return Status::corruption("window state: truncated value");
        uint64_t bits = readFixed64(in.data());
        in.remove_prefix(8);
        if (types[i] == DataType::kFloat64) {
          builder.appendFloat64(std::bit_cast<double>(bits));
        } else if (types[i] == DataType::kUInt64) {
          builder.appendUInt64(bits);
        } else {
          builder.appendInt64(static_cast<int64_t>(bits));
        }
        break;
      }
    }
  }
  return Status::OK();
}

void appendSortKey(const RecordBatch& batch, int64_t row, const std::vector<SortField>& fields, std::string& out) {
  for (const SortField& field : fields) {
    const size_t begin = out.size();
    const Column& column = *batch.column(field.column);
    if (column.isNull(row)) {
      out.push_back('\0');
    } else {
      out.push_back('\1');
      switch (column.type()) {
        case DataType::kBool: out.push_back(column.boolAt(row) ? '\1' : '\0'); break;
        case DataType::kString: {
          // Escape 0x00 as 0x00 0xFF and terminate with 0x00 0x00: prefix-free and order-preserving.
          for (char c : column.stringAt(row)) {
            out.push_back(c);
            if (c == '\0') out.push_back('\xFF');
          }
          out.push_back('\0');
          out.push_back('\0');
          break;
        }
        case DataType::kUInt64: appendBigEndian64(out, column.uint64s()[row]); break;
        case DataType::kFloat64: {
          uint64_t bits = std::bit_cast<uint64_t>(column.float64s()[row]);
          bits = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
          appendBigEndian64(out, bits);
          break;
        }
        default: appendInt64BigEndianOrdered(out, column.int64s()[row]); break;
      }
    }
    if (field.descending) {
      for (size_t i = begin; i < out.size(); ++i) out[i] = static_cast<char>(~out[i]);
    }
  }
}

}  // namespace sluice::window
