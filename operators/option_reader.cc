// OptionReader: YAML scalars to typed values without yaml-cpp exceptions.
#include "operators/option_reader.h"

#include <charconv>

#include "runtime/job/configuration.h"

namespace sluice {
namespace {

std::string_view roleName(NodeRole role) {
  switch (role) {
    case NodeRole::kSource: return "source";
    case NodeRole::kSink: return "sink";
    case NodeRole::kOperator: return "node";
  }
  return "node";
}

}  // namespace

OptionReader::OptionReader(YAML::Node node, std::string context)
    : node_(std::move(node)), context_(std::move(context)) {}

OptionReader OptionReader::forSpec(const NodeSpec& spec) {
  OptionReader reader(spec.options, std::string(roleName(spec.role)) + " '" + spec.id + "'");
  reader.read_ = {"id", "type", "from", "parallelism"};
  return reader;
}

Status OptionReader::error(const std::string& message) const {
  return Status::invalidArgument(context_ + ": " + message);
}

Status OptionReader::expected(const std::string& key, const std::string& what) const {
  return error("option '" + key + "' must be " + what);
}

bool OptionReader::has(const std::string& key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node& node = node_;
  return node[key].IsDefined() && !node[key].IsNull();
}

YAML::Node OptionReader::take(const std::string& key) {
  read_.insert(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& node = node_;
  return node[key];
}

Result<std::optional<std::string>> OptionReader::string(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<std::string>();
  if (!value.IsScalar()) return expected(key, "a string");
  return std::optional<std::string>(value.Scalar());
}

Result<std::optional<int64_t>> OptionReader::integer(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<int64_t>();
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [position, errorCode] = std::from_chars(text->data(), end, value);
  if (errorCode != std::errc() || position != end) return expected(key, "an integer, not '" + *text + "'");
  return std::optional<int64_t>(value);
}

Result<std::optional<double>> OptionReader::number(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<double>();
  double value = 0;
  const char* end = text->data() + text->size();
  auto [position, errorCode] = std::from_chars(text->data(), end, value);
  if (errorCode != std::errc() || position != end) return expected(key, "a number, not '" + *text + "'");
  return std::optional<double>(value);
}

Result<std::optional<std::chrono::milliseconds>> OptionReader::duration(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<std::chrono::milliseconds>();
  auto parsed = parseDuration(*text);
  if (!parsed.ok()) return expected(key, "a duration such as 1500ms or 2s, not '" + *text + "'");
  return std::optional<std::chrono::milliseconds>(*parsed);
}

Result<std::optional<std::vector<std::string>>> OptionReader::stringList(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> items;
  if (value.IsScalar()) {
    items.push_back(value.Scalar());
  } else if (value.IsSequence()) {
    for (const auto& item : value) {
      if (!item.IsScalar()) return expected(key, "a list of strings");
      items.push_back(item.Scalar());
    }
  } else {
    return expected(key, "a list of strings");
  }
  return std::optional<std::vector<std::string>>(std::move(items));
}

Result<std::optional<std::vector<std::pair<std::string, std::string>>>> OptionReader::stringMap(
    const std::string& key) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<Pairs>();
  if (!value.IsMap()) return expected(key, "a mapping");
  Pairs pairs;
  for (const auto& entry : value) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      return expected(key, "a mapping of names to strings");
    }
    pairs.emplace_back(entry.first.Scalar(), entry.second.Scalar());
  }
  return std::optional<Pairs>(std::move(pairs));
}

Result<std::optional<SchemaPtr>> OptionReader::schema(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto pairs, stringMap(key));
  if (!pairs.has_value()) return std::optional<SchemaPtr>();
  if (pairs->empty()) return error(key + ": a schema needs at least one field");
  std::vector<Field> fields;
  for (const auto& [name, typeName] : *pairs) {
    auto type = parseDataType(typeName);
    if (!type.has_value()) {
      return error(key + ": field '" + name + "' has unknown type '" + typeName +
                   "' (types: bool, int64, uint64, float64, string, timestamp)");
    }
    fields.push_back({name, *type});
  }
  auto made = Schema::make(std::move(fields));
  if (!made.ok()) return error(key + ": " + made.status().message());
  return std::optional<SchemaPtr>(*made);
}

Result<std::optional<OptionReader>> OptionReader::mapping(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<OptionReader>();
  if (!value.IsMap()) return expected(key, "a mapping");
  return std::optional<OptionReader>(OptionReader(value, context_ + ": " + key));
}

Status OptionReader::checkAllRead() const {
  if (!node_.IsMap()) return Status::OK();
  std::vector<std::string> unknown;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (read_.count(key) == 0) unknown.push_back("'" + key + "'");
  }
  if (unknown.empty()) return Status::OK();
  std::string list;
  for (size_t i = 0; i < unknown.size(); ++i) list += (i > 0 ? ", " : "") + unknown[i];
  std::string known;
  for (const auto& key : read_) {
    if (key == "id" || key == "type" || key == "from" || key == "parallelism") continue;
    known += (known.empty() ? "" : ", ") + key;
  }
  std::string message = (unknown.size() == 1 ? "unknown option " : "unknown options ") + list;
  if (!known.empty()) message += " (known: " + known + ")";
  return error(message);
}

}  // namespace sluice
