// Fixed-width little-endian encoding of state blobs (keyed state values and
// operator snapshots of the payment stages), with bounds-checked reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "runtime/base/result.h"

namespace sluice::payments {

/// Appends trivially copyable values to a string. Not thread-safe.
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(&out) {}
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_->append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void putBytes(std::string_view bytes) {
    put<uint64_t>(bytes.size());
    out_->append(bytes);
  }

 private:
  std::string* out_;
};

/// Reads what ByteWriter wrote; every read checks the remaining length and
/// reports Corruption naming `what` when the blob is truncated.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const char* what) : bytes_(bytes), what_(what) {}
  template <typename T>
  Result<T> get() {
    static_assert(std::is_trivially_copyable_v<T>);
    if (bytes_.size() - offset_ < sizeof(T)) return truncated();
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }
  Result<std::string_view> getBytes() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t size, get<uint64_t>());
    if (bytes_.size() - offset_ < size) return truncated();
    std::string_view view = bytes_.substr(offset_, size);
    offset_ += size;
    return view;
  }
  bool atEnd() const { return offset_ == bytes_.size(); }
  size_t& offset() { return offset_; }
  std::string_view bytes() const { return bytes_; }

 private:
  Status truncated() const { return Status::corruption(std::string("truncated ") + what_); }
  std::string_view bytes_;
  const char* what_;
  size_t offset_ = 0;
};

}  // namespace sluice::payments
