#include "runtime/data/column.h"

#include <bit>
#include <string>

namespace sluice {

bool Column::validate(std::string* why) const {
  auto fail = [why](std::string message) {
    if (why) *why = std::move(message);
    return false;
  };
  if (length_ < 0) return fail("negative length");
  switch (type_) {
    case DataType::kBool:
      if (static_cast<int64_t>(values_.size()) < bitmapBytes(length_)) return fail("bool bitmap too short");
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
    case DataType::kUInt64:
    case DataType::kFloat64:
      if (static_cast<int64_t>(values_.size()) != length_ * 8) return fail("value buffer size does not match length");
      break;
    case DataType::kString: {
      if (static_cast<int64_t>(values_.size()) != (length_ + 1) * 4) return fail("string offsets do not match length");
      const auto* offsets = values_.as<uint32_t>();
      if (offsets[0] != 0) return fail("first string offset is not zero");
      for (int64_t i = 0; i < length_; ++i) {
        if (offsets[i + 1] < offsets[i]) return fail("string offsets decrease");
      }
      if (offsets[length_] > data_.size()) return fail("string offsets point past the data");
      break;
    }
  }
  if (nullCount_ < 0 || nullCount_ > length_) return fail("null count out of range");
  if (nullCount_ > 0) {
    if (static_cast<int64_t>(validity_.size()) < bitmapBytes(length_)) return fail("validity bitmap too short");
    int64_t nulls = 0;
    for (int64_t i = 0; i < length_; ++i) nulls += getBit(validity_.data(), i) ? 0 : 1;
    if (nulls != nullCount_) return fail("null count does not match the validity bitmap");
  }
  return true;
}

}  // namespace sluice
