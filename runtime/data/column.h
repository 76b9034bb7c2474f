// Column: one immutable, typed vector of values with an optional null bitmap.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "runtime/data/buffer.h"
#include "runtime/data/data_type.h"

namespace sluice {

/// The values of one field across the rows of a batch, Arrow-style:
/// - int64/timestamp/uint64/float64: `values` holds `length` 8-byte values;
/// - bool: `values` is an LSB-first bitmap of `length` bits;
/// - string: `values` holds `length + 1` uint32 offsets into `data`.
/// `validity` is an LSB-first bitmap (1 = present) or empty when there are no nulls.
/// A null slot's value is unspecified (zero for builders). Immutable and
/// therefore safe to share between threads and batches.
class Column {
 public:
  /// Wraps buffers without validating them; use `validate()` on untrusted input.
  Column(DataType type, int64_t length, Buffer values, Buffer data, Buffer validity, int64_t nullCount)
      : type_(type),
        length_(length),
        nullCount_(nullCount),
        values_(std::move(values)),
        data_(std::move(data)),
        validity_(std::move(validity)) {}

  DataType type() const { return type_; }
  int64_t length() const { return length_; }
  int64_t nullCount() const { return nullCount_; }
  bool hasNulls() const { return nullCount_ > 0; }
  bool isNull(int64_t row) const { return nullCount_ > 0 && !getBit(validity_.data(), row); }
  bool isValid(int64_t row) const { return !isNull(row); }

  /// REQUIRES: type is int64 or timestamp.
  const int64_t* int64s() const { return values_.as<int64_t>(); }
  /// REQUIRES: type is uint64.
  const uint64_t* uint64s() const { return values_.as<uint64_t>(); }
  /// REQUIRES: type is float64.
  const double* float64s() const { return values_.as<double>(); }
  /// REQUIRES: type is bool.
  bool boolAt(int64_t row) const { return getBit(values_.data(), row); }
  /// REQUIRES: type is string.
  std::string_view stringAt(int64_t row) const {
    const auto* offsets = values_.as<uint32_t>();
    return std::string_view(reinterpret_cast<const char*>(data_.data()) + offsets[row],
                            offsets[row + 1] - offsets[row]);
  }
  /// REQUIRES: type is string.
  const uint32_t* stringOffsets() const { return values_.as<uint32_t>(); }

  const Buffer& values() const { return values_; }
  const Buffer& data() const { return data_; }
  const Buffer& validity() const { return validity_; }

  /// Checks buffer sizes, offsets and the null count against `length`; for
  /// columns built from bytes that came from outside the process.
  bool validate(std::string* why) const;

 private:
  DataType type_;
  int64_t length_;
  int64_t nullCount_;
  Buffer values_;
  Buffer data_;
  Buffer validity_;
};

using ColumnPtr = std::shared_ptr<const Column>;

}  // namespace sluice
