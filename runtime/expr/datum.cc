// Scalar extraction, broadcasting and validity bitmap arithmetic.
#include "runtime/expr/datum.h"

#include <algorithm>

#include "runtime/data/column_builder.h"

namespace sluice::expr {

Scalar scalarAt(const Column& column, int64_t row) {
  if (column.isNull(row)) return Scalar::null(column.type());
  switch (column.type()) {
    case DataType::kBool: return Scalar::ofBool(column.boolAt(row));
    case DataType::kString: return Scalar::ofString(std::string(column.stringAt(row)));
    default: {
      Scalar scalar{column.type(), true, 0, {}};
      std::memcpy(&scalar.bits, column.values().data() + row * 8, 8);
      return scalar;
    }
  }
}

ColumnPtr broadcast(const Scalar& value, int64_t rows) {
  Validity validity;
  if (!value.valid && rows > 0) {
    ValueBuffer<uint8_t> bits(bitmapBytes(rows));
    std::fill_n(bits.data(), bitmapBytes(rows), 0);
    validity = Validity{std::move(bits).finish(), rows};
  }
  switch (value.type) {
    case DataType::kBool: {
      ValueBuffer<uint8_t> bits(bitmapBytes(rows));
      std::fill_n(bits.data(), bitmapBytes(rows), value.valid && value.boolean() ? 0xFF : 0x00);
      return makeColumn(DataType::kBool, rows, std::move(bits).finish(), std::move(validity));
    }
    case DataType::kString: {
      const std::string& text = value.valid ? value.string : std::string();
      ValueBuffer<uint32_t> offsets(rows + 1);
      std::string chars;
      chars.reserve(text.size() * static_cast<size_t>(rows));
      offsets[0] = 0;
      for (int64_t row = 0; row < rows; ++row) {
        chars.append(text);
        offsets[row + 1] = static_cast<uint32_t>(chars.size());
      }
      return makeColumn(DataType::kString, rows, std::move(offsets).finish(), std::move(validity),
                        Buffer::fromString(std::move(chars)));
    }
    default: {
      ValueBuffer<uint64_t> values(rows);
      std::fill_n(values.data(), rows, value.valid ? value.bits : 0);
      return makeColumn(value.type, rows, std::move(values).finish(), std::move(validity));
    }
  }
}

Validity validityOf(const Datum& datum) {
  if (datum.isScalar() || !datum.column().hasNulls()) return Validity{};
  return Validity{datum.column().validity(), datum.column().nullCount()};
}

int64_t countNulls(const uint8_t* bitmap, int64_t rows) {
  const int64_t fullBytes = rows / 8;
  int64_t valid = 0;
  for (int64_t i = 0; i < fullBytes; ++i) valid += std::popcount(static_cast<unsigned>(bitmap[i]));
  if (rows % 8 != 0) {
    const unsigned mask = (1u << (rows % 8)) - 1;
    valid += std::popcount(static_cast<unsigned>(bitmap[fullBytes]) & mask);
  }
  return rows - valid;
}

Validity intersectValidity(const Validity& left, const Validity& right, int64_t rows) {
  if (left.nullCount == 0) return right;
  if (right.nullCount == 0) return left;
  const int64_t bytes = bitmapBytes(rows);
  ValueBuffer<uint8_t> out(bytes);
  const uint8_t* a = left.bitmap.data();
  const uint8_t* b = right.bitmap.data();
  for (int64_t i = 0; i < bytes; ++i) out[i] = a[i] & b[i];
  return makeValidity(std::move(out), rows);
}

Validity makeValidity(ValueBuffer<uint8_t>&& bitmap, int64_t rows) {
  const int64_t nulls = countNulls(bitmap.data(), rows);
  if (nulls == 0) return Validity{};
  return Validity{std::move(bitmap).finish(), nulls};
}

ColumnPtr makeColumn(DataType type, int64_t rows, Buffer values, Validity validity, Buffer data) {
  return std::make_shared<const Column>(type, rows, std::move(values), std::move(data), std::move(validity.bitmap),
                                        validity.nullCount);
}

}  // namespace sluice::expr
