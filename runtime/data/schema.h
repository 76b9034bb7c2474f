// Schema: the ordered, named, typed fields of a record batch.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/data_type.h"

namespace sluice {

struct Field {
  std::string name;
  DataType type;
  bool operator==(const Field& other) const = default;
};

/// An immutable list of fields with a by-name index. Shared between batches
/// through `SchemaPtr`; build it once per stream, never per batch.
class Schema {
 public:
  /// Validates that names are non-empty and unique.
  static Result<std::shared_ptr<const Schema>> make(std::vector<Field> fields);

  const std::vector<Field>& fields() const { return fields_; }
  int numFields() const { return static_cast<int>(fields_.size()); }
  const Field& field(int index) const { return fields_[index]; }
  /// Index of the field called `name`, or nullopt.
  std::optional<int> indexOf(std::string_view name) const;

  /// "name:type, name:type".
  std::string toString() const;
  bool operator==(const Schema& other) const { return fields_ == other.fields_; }

 private:
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}
  std::vector<Field> fields_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

}  // namespace sluice
