// Datum: what evaluating an expression node yields — a whole Column or one
// Scalar that stands for the same value in every row — plus the buffer and
// validity helpers the vectorised kernels share.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "runtime/data/column.h"

namespace sluice::expr {

/// One typed value or a typed null. Fixed-width values keep their raw 8 bytes
/// in `bits` (bool as 0 or 1), so kernels can copy them without a type switch.
struct Scalar {
  DataType type = DataType::kInt64;
  bool valid = false;
  uint64_t bits = 0;
  std::string string;

  static Scalar null(DataType type) { return Scalar{type, false, 0, {}}; }
  static Scalar ofInt64(int64_t value, DataType type = DataType::kInt64) {
    return Scalar{type, true, std::bit_cast<uint64_t>(value), {}};
  }
  static Scalar ofUInt64(uint64_t value) { return Scalar{DataType::kUInt64, true, value, {}}; }
  static Scalar ofFloat64(double value) { return Scalar{DataType::kFloat64, true, std::bit_cast<uint64_t>(value), {}}; }
  static Scalar ofBool(bool value) { return Scalar{DataType::kBool, true, value ? 1u : 0u, {}}; }
  static Scalar ofString(std::string value) { return Scalar{DataType::kString, true, 0, std::move(value)}; }

  int64_t int64() const { return std::bit_cast<int64_t>(bits); }
  uint64_t uint64() const { return bits; }
  double float64() const { return std::bit_cast<double>(bits); }
  bool boolean() const { return bits != 0; }
};

/// The value of `row` of `column` as a Scalar.
Scalar scalarAt(const Column& column, int64_t row);

/// A column of `rows` copies of `value` (all null when the scalar is null).
ColumnPtr broadcast(const Scalar& value, int64_t rows);

/// A Column or a Scalar broadcast over the batch. Cheap to copy.
class Datum {
 public:
  explicit Datum(ColumnPtr column) : column_(std::move(column)) {}
  explicit Datum(Scalar scalar) : scalar_(std::move(scalar)) {}

  bool isScalar() const { return column_ == nullptr; }
  bool isNullScalar() const { return column_ == nullptr && !scalar_.valid; }
  DataType type() const { return column_ ? column_->type() : scalar_.type; }
  /// REQUIRES: !isScalar().
  const Column& column() const { return *column_; }
  const ColumnPtr& columnPtr() const { return column_; }
  /// REQUIRES: isScalar().
  const Scalar& scalar() const { return scalar_; }

  /// True when row `row` holds null.
  bool isNull(int64_t row) const { return column_ ? column_->isNull(row) : !scalar_.valid; }

 private:
  ColumnPtr column_;
  Scalar scalar_;
};

/// Uninitialised storage for `count` values that becomes a Buffer without a
/// copy. Kernels write every slot, so zero-filling would be a wasted pass.
template <typename T>
class ValueBuffer {
 public:
  explicit ValueBuffer(int64_t count)
      : storage_(new T[static_cast<size_t>(count > 0 ? count : 1)]), count_(count > 0 ? count : 0) {}
  T* data() { return storage_.get(); }
  T& operator[](int64_t index) { return storage_[index]; }
  Buffer finish() && {
    const auto* bytes = reinterpret_cast<const uint8_t*>(storage_.get());
    std::shared_ptr<const void> owner(storage_, storage_.get());
    return Buffer(std::move(owner), bytes, static_cast<size_t>(count_) * sizeof(T));
  }

 private:
  std::shared_ptr<T[]> storage_;
  int64_t count_;
};

/// A validity bitmap with its null count; an empty bitmap means "no nulls".
struct Validity {
  Buffer bitmap;
  int64_t nullCount = 0;
};

/// The validity of `datum` over `rows` rows. REQUIRES: not a null scalar.
Validity validityOf(const Datum& datum);
/// Rows valid in both; shares a buffer instead of copying when one side has no nulls.
Validity intersectValidity(const Validity& left, const Validity& right, int64_t rows);
/// Counts the cleared bits among the first `rows` bits.
int64_t countNulls(const uint8_t* bitmap, int64_t rows);
/// Turns a freshly built bitmap into a Validity (dropped when it has no nulls).
Validity makeValidity(ValueBuffer<uint8_t>&& bitmap, int64_t rows);

/// Wraps finished buffers as a column.
ColumnPtr makeColumn(DataType type, int64_t rows, Buffer values, Validity validity, Buffer data = Buffer());

/// Writes `predicate(row)` for rows [0, rows) into an LSB-first bitmap, eight
/// rows per byte; the padding bits of the last byte are zero.
template <typename Predicate>
inline void packBits(int64_t rows, uint8_t* out, Predicate&& predicate) {
  const int64_t fullBytes = rows / 8;
  for (int64_t byteIndex = 0; byteIndex < fullBytes; ++byteIndex) {
    const int64_t base = byteIndex * 8;
    uint8_t byte = 0;
    for (int bit = 0; bit < 8; ++bit) byte |= static_cast<uint8_t>(predicate(base + bit) ? 1u : 0u) << bit;
    out[byteIndex] = byte;
  }
  if (rows % 8 != 0) {
    uint8_t byte = 0;
    for (int64_t row = fullBytes * 8; row < rows; ++row) {
      byte |= static_cast<uint8_t>(predicate(row) ? 1u : 0u) << (row & 7);
    }
    out[fullBytes] = byte;
  }
}

}  // namespace sluice::expr
