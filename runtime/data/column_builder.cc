#include "runtime/data/column_builder.h"

#include <cstring>

namespace sluice {

void ColumnBuilder::reserve(int64_t rows) {
  switch (type_) {
    case DataType::kBool: bits_.reserve(bitmapBytes(rows)); break;
    case DataType::kString: offsets_.reserve(rows + 1); break;
    default: fixed_.reserve(rows); break;
  }
}

void ColumnBuilder::appendNull() {
  if (validity_.empty()) {
    // First null: materialise the bitmap with every earlier row valid.
    validity_.assign(bitmapBytes(length_), 0xFF);
    if (length_ & 7) validity_.back() = static_cast<uint8_t>((1u << (length_ & 7)) - 1);
  }
  if ((length_ & 7) == 0) validity_.push_back(0);
  switch (type_) {
    case DataType::kBool:
      if ((length_ & 7) == 0) bits_.push_back(0);
      break;
    case DataType::kString: offsets_.push_back(static_cast<uint32_t>(chars_.size())); break;
    default: fixed_.push_back(0); break;
  }
  ++nullCount_;
  ++length_;
}

void ColumnBuilder::appendFrom(const Column& source, int64_t row) {
  if (source.isNull(row)) {
    appendNull();
    return;
  }
  switch (type_) {
    case DataType::kBool: appendBool(source.boolAt(row)); break;
    case DataType::kString: appendString(source.stringAt(row)); break;
    default: {
      uint64_t raw;
      std::memcpy(&raw, source.values().data() + row * 8, 8);
      fixed_.push_back(raw);
      markValid();
      break;
    }
  }
}

void ColumnBuilder::appendRange(const Column& source, int64_t offset, int64_t count) {
  if (!source.hasNulls() && validity_.empty() && type_ != DataType::kBool && type_ != DataType::kString) {
    const auto* begin = source.values().as<uint64_t>() + offset;
    fixed_.insert(fixed_.end(), begin, begin + count);
    length_ += count;
    return;
  }
  for (int64_t i = 0; i < count; ++i) appendFrom(source, offset + i);
}

ColumnPtr ColumnBuilder::finish() {
  Buffer values;
  Buffer data;
  switch (type_) {
    case DataType::kBool: values = Buffer::fromVector(std::move(bits_)); break;
    case DataType::kString:
      values = Buffer::fromVector(std::move(offsets_));
      data = Buffer::fromString(std::move(chars_));
      break;
    default: values = Buffer::fromVector(std::move(fixed_)); break;
  }
  Buffer validity = nullCount_ > 0 ? Buffer::fromVector(std::move(validity_)) : Buffer();
  auto column = std::make_shared<const Column>(type_, length_, std::move(values), std::move(data), std::move(validity),
                                               nullCount_);
  *this = ColumnBuilder(type_);
  return column;
}

}  // namespace sluice
