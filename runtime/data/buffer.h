// Buffer: an immutable byte range plus whatever keeps it alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice {

/// A read-only view of bytes with shared ownership of their storage. The storage
/// may be a vector a builder filled or a received network message, which is how
/// decoded batches avoid copying column data. Thread-safe to read and copy.
class Buffer {
 public:
  Buffer() = default;
  Buffer(std::shared_ptr<const void> owner, const uint8_t* data, size_t size)
      : owner_(std::move(owner)), data_(data), size_(size) {}

  /// Takes ownership of a vector's storage without copying it.
  template <typename T>
  static Buffer fromVector(std::vector<T>&& values) {
    auto owned = std::make_shared<std::vector<T>>(std::move(values));
    const auto* bytes = reinterpret_cast<const uint8_t*>(owned->data());
    size_t size = owned->size() * sizeof(T);
    return Buffer(std::move(owned), bytes, size);
  }
  static Buffer fromString(std::string&& bytes) {
    auto owned = std::make_shared<std::string>(std::move(bytes));
    const auto* data = reinterpret_cast<const uint8_t*>(owned->data());
    size_t size = owned->size();
    return Buffer(std::move(owned), data, size);
  }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }

 private:
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

/// Bit helpers for LSB-first bitmaps (validity and booleans, as Cap'n Proto packs them).
inline bool getBit(const uint8_t* bits, int64_t index) { return (bits[index >> 3] >> (index & 7)) & 1; }
inline void setBit(uint8_t* bits, int64_t index, bool value) {
  if (value) {
    bits[index >> 3] |= static_cast<uint8_t>(1u << (index & 7));
  } else {
    bits[index >> 3] &= static_cast<uint8_t>(~(1u << (index & 7)));
  }
}
inline int64_t bitmapBytes(int64_t bits) { return (bits + 7) / 8; }

}  // namespace sluice
