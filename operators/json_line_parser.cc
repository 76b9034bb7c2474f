// JsonLineParser on simdjson's DOM API, whose kernels are picked at run time
// for the CPU (the On-Demand API is fixed at compile time and would fall back to
// the portable kernel without -march flags). Values are staged per field and
// appended only when the whole line is good.
#include "operators/json_line_parser.h"

#include <simdjson.h>

#include <charconv>

static_assert(sluice::LineParser::kPadding >= simdjson::SIMDJSON_PADDING, "line padding too small for simdjson");

namespace sluice {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

/// What a value is, for messages: its type, or the number itself.
std::string describe(const element& value) {
  char text[32];
  switch (value.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
    case element_type::INT64:
      return std::string(text, std::to_chars(text, text + sizeof(text), value.get_int64().value_unsafe()).ptr);
    case element_type::UINT64:
      return std::string(text, std::to_chars(text, text + sizeof(text), value.get_uint64().value_unsafe()).ptr);
    case element_type::DOUBLE:
      return std::string(text, std::to_chars(text, text + sizeof(text), value.get_double().value_unsafe()).ptr);
  }
  return "unknown";
}

Status malformed(simdjson::error_code error) {
  return Status::parseError(std::string("malformed JSON: ") + simdjson::error_message(error));
}

Status mismatch(const Field& field, const element& value) {
  return Status::parseError("field '" + field.name + "': expected " + std::string(dataTypeName(field.type)) + ", got " +
                            describe(value));
}

}  // namespace

struct JsonLineParser::Impl {
  simdjson::dom::parser parser;
};

JsonLineParser::JsonLineParser(std::vector<RecordKind> kinds, std::string discriminator)
    : LineParser(std::move(kinds)), discriminator_(std::move(discriminator)), impl_(std::make_unique<Impl>()) {}

JsonLineParser::~JsonLineParser() = default;

int JsonLineParser::findKind(std::string_view name) const {
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (kinds_[i].name == name) return static_cast<int>(i);
  }
  return kUnknownKind;
}

int JsonLineParser::findField(int kind, std::string_view key, int hint) const {
  const auto& fields = kinds_[kind].schema->fields();
  const int numFields = static_cast<int>(fields.size());
  // Objects usually list their fields in schema order, so the field after the
  // previous match is the first guess.
  if (hint < numFields && fields[hint].name == key) return hint;
  for (int i = 0; i < numFields; ++i) {
    if (fields[i].name == key) return i;
  }
  return -1;
}

Result<int> JsonLineParser::parseLine(std::string_view line, size_t capacity) {
  using namespace simdjson;
  SLUICE_CHECK(capacity >= line.size() + kPadding, "line without padding");
  element document;
  // The line is followed by padding, so simdjson may read past it in place.
  if (auto error = impl_->parser.parse(line.data(), line.size(), false).get(document)) return malformed(error);
  dom::object object;
  if (document.get_object().get(object)) return Status::parseError("expected a JSON object");

  int kind = 0;
  if (!discriminator_.empty()) {
    element value;
    if (object.at_key(discriminator_).get(value)) {
      return Status::parseError("missing discriminator field '" + discriminator_ + "'");
    }
    std::string_view name;
    if (value.get_string().get(name)) {
      return Status::parseError("discriminator field '" + discriminator_ + "': expected a string, got " +
                                describe(value));
    }
    kind = findKind(name);
    if (kind == kUnknownKind) return kUnknownKind;
  }

  beginRow(kind);
  const Schema& schema = *kinds_[kind].schema;
  int hint = 0;
  for (dom::key_value_pair field : object) {
    const int index = findField(kind, field.key, hint);
    if (index < 0) continue;  // not in the schema
    hint = index + 1;
    StagedValue& slot = staged_[index];
    const Field& schemaField = schema.field(index);
    if (slot.present) return Status::parseError("field '" + schemaField.name + "' appears twice");
    const element& value = field.value;
    const element_type type = value.type();
    if (type == element_type::NULL_VALUE) continue;
    switch (schemaField.type) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        if (type != element_type::INT64) return mismatch(schemaField, value);
        slot.int64Value = value.get_int64().value_unsafe();
        break;
      case DataType::kUInt64:
        if (type == element_type::UINT64) {
          slot.uint64Value = value.get_uint64().value_unsafe();
        } else if (type == element_type::INT64 && value.get_int64().value_unsafe() >= 0) {
          slot.uint64Value = static_cast<uint64_t>(value.get_int64().value_unsafe());
        } else {
          return mismatch(schemaField, value);
        }
        break;
      case DataType::kFloat64:
        if (type == element_type::DOUBLE) {
          slot.float64Value = value.get_double().value_unsafe();
        } else if (type == element_type::INT64) {
          slot.float64Value = static_cast<double>(value.get_int64().value_unsafe());
        } else if (type == element_type::UINT64) {
          slot.float64Value = static_cast<double>(value.get_uint64().value_unsafe());
        } else {
          return mismatch(schemaField, value);
        }
        break;
      case DataType::kBool:
        if (type != element_type::BOOL) return mismatch(schemaField, value);
        slot.boolValue = value.get_bool().value_unsafe();
        break;
      case DataType::kString:
        if (type != element_type::STRING) return mismatch(schemaField, value);
        slot.stringValue = value.get_string().value_unsafe();
        break;
    }
    slot.present = true;
  }
  SLUICE_RETURN_NOT_OK(commitRow(kind));
  return kind;
}

}  // namespace sluice
