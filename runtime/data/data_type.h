// The logical types a column can hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice {

/// Logical column types. `kTimestamp` is epoch milliseconds stored as int64.
enum class DataType : uint8_t {
  kBool = 0,
  kInt64 = 1,
  kUInt64 = 2,
  kFloat64 = 3,
  kString = 4,
  kTimestamp = 5,
};

/// "bool", "int64", "uint64", "float64", "string", "timestamp".
std::string_view dataTypeName(DataType type);

/// Parses a type name as written in job files; also accepts the aliases
/// "boolean", "long", "int", "double", "float", "str" and "varchar".
std::optional<DataType> parseDataType(std::string_view name);

/// int64, uint64, float64 and timestamp.
inline bool isNumeric(DataType type) {
  return type == DataType::kInt64 || type == DataType::kUInt64 || type == DataType::kFloat64 ||
         type == DataType::kTimestamp;
}

/// Types stored as 8-byte integers.
inline bool isInt64Like(DataType type) { return type == DataType::kInt64 || type == DataType::kTimestamp; }

}  // namespace sluice
