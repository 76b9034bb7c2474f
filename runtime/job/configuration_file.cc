// Flattens YAML mappings into configuration keys and reads cluster config files.
#include "runtime/job/configuration_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace sluice {
namespace {

std::string locationOf(const std::string& displayName, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return displayName;
  return fmt::format("{}:{}", displayName, mark.line + 1);
}

Status applyMapping(const YAML::Node& node, const std::string& prefix, const std::string& displayName,
                    Configuration* config) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node keyNode = it->first;
    const YAML::Node value = it->second;
    if (!keyNode.IsScalar() || keyNode.Scalar().empty()) {
      return Status::invalidArgument(
          fmt::format("{}: configuration keys must be non-empty strings", locationOf(displayName, keyNode)));
    }
    std::string key = prefix.empty() ? keyNode.Scalar() : prefix + "." + keyNode.Scalar();
    switch (value.Type()) {
      case YAML::NodeType::Map: SLUICE_RETURN_NOT_OK(applyMapping(value, key, displayName, config)); break;
      case YAML::NodeType::Scalar: {
        Status status = config->set(key, value.Scalar());
        if (!status.ok()) return status.withContext(locationOf(displayName, value));
        break;
      }
      case YAML::NodeType::Sequence:
        return Status::invalidArgument(fmt::format("{}: configuration key '{}': expected a single value, got a list",
                                                   locationOf(displayName, value), key));
      default:
        return Status::invalidArgument(
            fmt::format("{}: configuration key '{}' has no value", locationOf(displayName, keyNode), key));
    }
  }
  return Status::OK();
}

}  // namespace

Status applyConfigurationYaml(const YAML::Node& node, const std::string& displayName, Configuration* config) {
  if (!node.IsDefined() || node.IsNull()) return Status::OK();
  if (!node.IsMap()) {
    return Status::invalidArgument(
        fmt::format("{}: configuration must be a mapping of keys to values", locationOf(displayName, node)));
  }
  try {
    return applyMapping(node, "", displayName, config);
  } catch (const YAML::Exception& error) {
    return Status::invalidArgument(fmt::format("{}: invalid configuration: {}", displayName, error.msg));
  }
}

Result<Configuration> loadConfigurationFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return Status::notFound(fmt::format("configuration file '{}' does not exist or is not a file", path));
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file.good() && !file.eof()) return Status::ioError(fmt::format("cannot read configuration file '{}'", path));

  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& exception) {
    return Status::invalidArgument(fmt::format("{}:{}:{}: malformed YAML: {}", path, exception.mark.line + 1,
                                               exception.mark.column + 1, exception.msg));
  }
  Configuration config;
  SLUICE_RETURN_NOT_OK(applyConfigurationYaml(root, path, &config));
  return config;
}

}  // namespace sluice
