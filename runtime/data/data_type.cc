#include "runtime/data/data_type.h"

namespace sluice {

std::string_view dataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool: return "bool";
    case DataType::kInt64: return "int64";
    case DataType::kUInt64: return "uint64";
    case DataType::kFloat64: return "float64";
    case DataType::kString: return "string";
    case DataType::kTimestamp: return "timestamp";
  }
  return "unknown";
}

std::optional<DataType> parseDataType(std::string_view name) {
  if (name == "bool" || name == "boolean") return DataType::kBool;
  if (name == "int64" || name == "long" || name == "int" || name == "bigint") return DataType::kInt64;
  if (name == "uint64") return DataType::kUInt64;
  if (name == "float64" || name == "double" || name == "float") return DataType::kFloat64;
  if (name == "string" || name == "str" || name == "varchar") return DataType::kString;
  if (name == "timestamp") return DataType::kTimestamp;
  return std::nullopt;
}

}  // namespace sluice
