// NodeOptionReader: YAML scalars to typed values without yaml-cpp exceptions.
#include "operators/window/node_option_reader.h"

#include <charconv>

#include "runtime/job/configuration.h"

namespace sluice::window {

NodeOptionReader::NodeOptionReader(YAML::Node node, std::string context)
    : node_(std::move(node)), context_(std::move(context)) {}

NodeOptionReader NodeOptionReader::forSpec(const NodeSpec& spec) {
  NodeOptionReader reader(spec.options, "node '" + spec.id + "'");
  reader.read_ = {"id", "type", "from", "parallelism"};
  return reader;
}

Status NodeOptionReader::error(const std::string& message) const {
  return Status::invalidArgument(context_ + ": " + message);
}

bool NodeOptionReader::has(const std::string& key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node& node = node_;
  return node[key].IsDefined() && !node[key].IsNull();
}

YAML::Node NodeOptionReader::take(const std::string& key) {
  read_.insert(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& node = node_;
  return node[key];
}

Result<std::optional<std::string>> NodeOptionReader::string(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<std::string>();
  if (!value.IsScalar()) return error("option '" + key + "' must be a string");
  return std::optional<std::string>(value.Scalar());
}

Result<std::optional<int64_t>> NodeOptionReader::integer(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<int64_t>();
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [position, errorCode] = std::from_chars(text->data(), end, value);
  if (errorCode != std::errc() || position != end) {
    return error("option '" + key + "' must be an integer, not '" + *text + "'");
  }
  return std::optional<int64_t>(value);
}

Result<std::optional<bool>> NodeOptionReader::boolean(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<bool>();
  if (*text == "true") return std::optional<bool>(true);
  if (*text == "false") return std::optional<bool>(false);
  return error("option '" + key + "' must be true or false, not '" + *text + "'");
}

Result<std::optional<int64_t>> NodeOptionReader::durationMillis(const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto text, string(key));
  if (!text.has_value()) return std::optional<int64_t>();
  auto parsed = parseDuration(*text);
  if (!parsed.ok()) return error("option '" + key + "' must be a duration such as 10s or 1500ms, not '" + *text + "'");
  return std::optional<int64_t>(parsed->count());
}

Result<std::optional<std::vector<std::string>>> NodeOptionReader::stringList(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> items;
  if (value.IsScalar()) {
    items.push_back(value.Scalar());
  } else if (value.IsSequence()) {
    for (const auto& item : value) {
      if (!item.IsScalar()) return error("option '" + key + "' must be a list of strings");
      items.push_back(item.Scalar());
    }
  } else {
    return error("option '" + key + "' must be a list of strings");
  }
  return std::optional<std::vector<std::string>>(std::move(items));
}

Result<std::optional<NodeOptionReader>> NodeOptionReader::mapping(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::optional<NodeOptionReader>();
  if (!value.IsMap()) return error("option '" + key + "' must be a mapping");
  return std::optional<NodeOptionReader>(NodeOptionReader(value, context_ + ": " + key));
}

std::vector<std::string> NodeOptionReader::keys() const {
  std::vector<std::string> keys;
  if (!node_.IsMap()) return keys;
  for (const auto& entry : node_) {
    if (entry.first.IsScalar()) keys.push_back(entry.first.Scalar());
  }
  return keys;
}

Status NodeOptionReader::checkAllRead() const {
  std::string unknown;
  for (const std::string& key : keys()) {
    if (read_.count(key) == 0) unknown += (unknown.empty() ? "'" : ", '") + key + "'";
  }
  if (unknown.empty()) return Status::OK();
  return error("unknown option " + unknown);
}

}  // namespace sluice::window
