#include "runtime/data/schema.h"

#include <unordered_set>

namespace sluice {

Result<SchemaPtr> Schema::make(std::vector<Field> fields) {
  std::unordered_set<std::string> seen;
  for (const auto& field : fields) {
    if (field.name.empty()) return Status::invalidArgument("schema field with an empty name");
    if (!seen.insert(field.name).second) {
      return Status::invalidArgument("schema has field '" + field.name + "' twice");
    }
  }
  return SchemaPtr(new Schema(std::move(fields)));
}

std::optional<int> Schema::indexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string Schema::toString() const {
  std::string out;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) out += ", ";
    out += fields_[i].name;
    out += ':';
    out += dataTypeName(fields_[i].type);
  }
  return out;
}

}  // namespace sluice
