// ColumnBuilder: appends values of one type, then freezes them into a Column.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/check.h"
#include "runtime/data/column.h"

namespace sluice {

/// Accumulates the values of one column. Appends must match the builder's type
/// (checked in debug builds by the caller's contract, not per value). Not
/// thread-safe. `finish()` moves the storage into an immutable Column without
/// copying and leaves the builder empty and reusable.
class ColumnBuilder {
 public:
  explicit ColumnBuilder(DataType type) : type_(type) {
    if (type_ == DataType::kString) offsets_.push_back(0);
  }

  DataType type() const { return type_; }
  int64_t length() const { return length_; }
  void reserve(int64_t rows);

  void appendInt64(int64_t value) {
    fixed_.push_back(static_cast<uint64_t>(value));
    markValid();
  }
  void appendUInt64(uint64_t value) {
    fixed_.push_back(value);
    markValid();
  }
  void appendFloat64(double value) {
    fixed_.push_back(std::bit_cast<uint64_t>(value));
    markValid();
  }
  void appendBool(bool value) {
    if ((length_ & 7) == 0) bits_.push_back(0);
    if (value) bits_.back() |= static_cast<uint8_t>(1u << (length_ & 7));
    markValid();
  }
  void appendString(std::string_view value) {
    chars_.append(value);
    offsets_.push_back(static_cast<uint32_t>(chars_.size()));
    markValid();
  }
  void appendNull();

  /// Appends row `row` of `source`, which must have this builder's type.
  void appendFrom(const Column& source, int64_t row);
  /// Appends rows [offset, offset + count) of `source`.
  void appendRange(const Column& source, int64_t offset, int64_t count);

  ColumnPtr finish();

 private:
  void markValid() {
    if (!validity_.empty()) {
      if ((length_ & 7) == 0) validity_.push_back(0);
      validity_.back() |= static_cast<uint8_t>(1u << (length_ & 7));
    }
    ++length_;
  }

  DataType type_;
  int64_t length_ = 0;
  int64_t nullCount_ = 0;
  std::vector<uint64_t> fixed_;
  std::vector<uint8_t> bits_;
  std::vector<uint32_t> offsets_;
  std::string chars_;
  std::vector<uint8_t> validity_;  // empty until the first null
};

}  // namespace sluice
