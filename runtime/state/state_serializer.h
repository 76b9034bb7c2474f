// StateSerializer<T>: byte encodings of values kept in keyed state. Integer
// and floating-point encodings preserve order, so MapState iterates numeric
// keys in numeric order.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "runtime/base/result.h"

namespace sluice {

/// `static void serialize(const T&, std::string& out)` appends the bytes of a
/// value; `static Result<T> deserialize(std::string_view)` reads them back
/// (Corruption on a wrong size). Specialised for int64_t, uint64_t, double,
/// bool and std::string; any other trivially copyable type is copied as its
/// in-memory bytes (fine for state, which never leaves the same build).
template <typename T>
struct StateSerializer;

namespace detail {

inline void appendBigEndian(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

inline Result<uint64_t> readBigEndian(std::string_view bytes, const char* typeName) {
  if (bytes.size() != 8) {
    return Status::corruption(fmt::format("state value of type {} has {} bytes, expected 8", typeName, bytes.size()));
  }
  uint64_t value = 0;
  for (char byte : bytes) value = (value << 8) | static_cast<unsigned char>(byte);
  return value;
}

}  // namespace detail

template <>
struct StateSerializer<uint64_t> {
  static void serialize(uint64_t value, std::string& out) { detail::appendBigEndian(out, value); }
  static Result<uint64_t> deserialize(std::string_view bytes) { return detail::readBigEndian(bytes, "uint64"); }
};

/// Big-endian with the sign bit flipped: byte order equals numeric order.
template <>
struct StateSerializer<int64_t> {
  static void serialize(int64_t value, std::string& out) {
    detail::appendBigEndian(out, static_cast<uint64_t>(value) ^ (uint64_t{1} << 63));
  }
  static Result<int64_t> deserialize(std::string_view bytes) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t raw, detail::readBigEndian(bytes, "int64"));
    return static_cast<int64_t>(raw ^ (uint64_t{1} << 63));
  }
};

/// IEEE bits made order-preserving (negative numbers inverted, positive ones get the sign bit).
template <>
struct StateSerializer<double> {
  static void serialize(double value, std::string& out) {
    auto bits = std::bit_cast<uint64_t>(value);
    bits = (bits & (uint64_t{1} << 63)) != 0 ? ~bits : bits | (uint64_t{1} << 63);
    detail::appendBigEndian(out, bits);
  }
  static Result<double> deserialize(std::string_view bytes) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t bits, detail::readBigEndian(bytes, "double"));
    bits = (bits & (uint64_t{1} << 63)) != 0 ? bits & ~(uint64_t{1} << 63) : ~bits;
    return std::bit_cast<double>(bits);
  }
};

template <>
struct StateSerializer<bool> {
  static void serialize(bool value, std::string& out) { out.push_back(value ? '\1' : '\0'); }
  static Result<bool> deserialize(std::string_view bytes) {
    if (bytes.size() != 1)
      return Status::corruption(fmt::format("state value of type bool has {} bytes", bytes.size()));
    return bytes[0] != 0;
  }
};

/// The raw bytes (a string is always the whole value or user key).
template <>
struct StateSerializer<std::string> {
  static void serialize(const std::string& value, std::string& out) { out.append(value); }
  static Result<std::string> deserialize(std::string_view bytes) { return std::string(bytes); }
};

template <typename T>
requires(std::is_trivially_copyable_v<T> && !std::is_same_v<T, int64_t> && !std::is_same_v<T, uint64_t> &&
         !std::is_same_v<T, double> && !std::is_same_v<T, bool>) struct StateSerializer<T> {
  static void serialize(const T& value, std::string& out) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  static Result<T> deserialize(std::string_view bytes) {
    if (bytes.size() != sizeof(T)) {
      return Status::corruption(fmt::format("state value has {} bytes, expected {}", bytes.size(), sizeof(T)));
    }
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
};

/// Serialises `value` into a fresh string.
template <typename T, typename Serializer = StateSerializer<T>>
std::string serializeState(const T& value) {
  std::string out;
  Serializer::serialize(value, out);
  return out;
}

}  // namespace sluice
