// JsonLineWriter: per-row formatting into a growing buffer with one bound check per row.
#include "operators/json_line_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

/// For each byte: 0 when it is copied as is, else the character after the
/// backslash ('u' for the \u00XX form).
constexpr std::array<char, 256> makeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['"'] = '"';
  table['\\'] = '\\';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  return table;
}
constexpr std::array<char, 256> kEscapes = makeEscapeTable();

constexpr size_t kMaxNumberChars = 32;  // longest int64/uint64/double text is 24 chars

/// Writes `text` escaped and quoted at `cursor`. REQUIRES: 6 * size + 2 bytes of room.
char* writeString(std::string_view text, char* cursor) {
  static constexpr char kHex[] = "0123456789abcdef";
  *cursor++ = '"';
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t runStart = 0;
  for (size_t i = 0; i < size; ++i) {
    const char escape = kEscapes[bytes[i]];
    if (escape == 0) [[likely]]
      continue;
    std::memcpy(cursor, text.data() + runStart, i - runStart);
    cursor += i - runStart;
    *cursor++ = '\\';
    *cursor++ = escape;
    if (escape == 'u') {
      *cursor++ = '0';
      *cursor++ = '0';
      *cursor++ = kHex[bytes[i] >> 4];
      *cursor++ = kHex[bytes[i] & 0xF];
    }
    runStart = i + 1;
  }
  std::memcpy(cursor, text.data() + runStart, size - runStart);
  cursor += size - runStart;
  *cursor++ = '"';
  return cursor;
}

char* writeFloat64(double value, char* cursor) {
  if (!std::isfinite(value)) {
    std::memcpy(cursor, "null", 4);
    return cursor + 4;
  }
  return std::to_chars(cursor, cursor + kMaxNumberChars, value).ptr;
}

}  // namespace

JsonLineWriter::JsonLineWriter(SchemaPtr schema) : schema_(std::move(schema)) {
  for (int i = 0; i < schema_->numFields(); ++i) {
    std::string prefix(i == 0 ? "{" : ",");
    appendString(schema_->field(i).name, prefix);
    prefix += ':';
    keyPrefixes_.push_back(std::move(prefix));
  }
}

void JsonLineWriter::appendString(std::string_view text, std::string& out) {
  const size_t used = out.size();
  out.resize(used + 6 * text.size() + 2);
  char* end = writeString(text, out.data() + used);
  out.resize(static_cast<size_t>(end - out.data()));
}

void JsonLineWriter::appendFloat64(double value, std::string& out) {
  char text[kMaxNumberChars];
  char* end = writeFloat64(value, text);
  out.append(text, static_cast<size_t>(end - text));
}

void JsonLineWriter::append(const RecordBatch& batch, std::string& out) const {
  const int numColumns = batch.numColumns();
  const int64_t numRows = batch.numRows();
  if (numRows == 0) return;
  // Room a row needs apart from its strings: keys, numbers, braces.
  size_t fixedRowBound = 2;
  for (int c = 0; c < numColumns; ++c) fixedRowBound += keyPrefixes_[c].size() + kMaxNumberChars;
  std::vector<const Column*> strings;
  for (int c = 0; c < numColumns; ++c) {
    if (batch.column(c)->type() == DataType::kString) strings.push_back(batch.column(c).get());
  }

  size_t used = out.size();
  out.resize(used + static_cast<size_t>(numRows) * fixedRowBound);
  for (int64_t row = 0; row < numRows; ++row) {
    size_t rowBound = fixedRowBound;
    for (const Column* column : strings) {
      const uint32_t* offsets = column->stringOffsets();
      rowBound += 6 * static_cast<size_t>(offsets[row + 1] - offsets[row]) + 2;
    }
    if (out.size() - used < rowBound) out.resize(std::max(out.size() * 2, used + rowBound));
    char* cursor = out.data() + used;
    for (int c = 0; c < numColumns; ++c) {
      const std::string& prefix = keyPrefixes_[c];
      std::memcpy(cursor, prefix.data(), prefix.size());
      cursor += prefix.size();
      const Column& column = *batch.column(c);
      if (column.isNull(row)) {
        std::memcpy(cursor, "null", 4);
        cursor += 4;
        continue;
      }
      switch (column.type()) {
        case DataType::kInt64:
        case DataType::kTimestamp:
          cursor = std::to_chars(cursor, cursor + kMaxNumberChars, column.int64s()[row]).ptr;
          break;
        case DataType::kUInt64:
          cursor = std::to_chars(cursor, cursor + kMaxNumberChars, column.uint64s()[row]).ptr;
          break;
        case DataType::kFloat64: cursor = writeFloat64(column.float64s()[row], cursor); break;
        case DataType::kBool:
          if (column.boolAt(row)) {
            std::memcpy(cursor, "true", 4);
            cursor += 4;
          } else {
            std::memcpy(cursor, "false", 5);
            cursor += 5;
          }
          break;
        case DataType::kString: cursor = writeString(column.stringAt(row), cursor); break;
      }
    }
    if (numColumns == 0) *cursor++ = '{';
    *cursor++ = '}';
    *cursor++ = '\n';
    used = static_cast<size_t>(cursor - out.data());
  }
  out.resize(used);
}

}  // namespace sluice
