// The process-wide registry that maps source, sink and operator kinds to their factories.
#include "runtime/job/node_factory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sluice {
namespace {

const char* const kMapKeys[] = {"filter", "select", "where"};

std::string knownKinds(const std::map<std::string, NodeFactory>& factories) {
  if (factories.empty()) return "(none registered)";
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories) names.push_back(name);
  return fmt::format("{}", fmt::join(names, ", "));
}

/// A node's `type` option, or "" when it has none (or it is not a string).
std::string typeOf(const NodeSpec& spec) {
  if (!spec.options.IsMap()) return "";
  const YAML::Node& options = spec.options;
  const YAML::Node type = options["type"];
  return type.IsDefined() && type.IsScalar() ? type.Scalar() : "";
}

}  // namespace

NodeRegistry& NodeRegistry::instance() {
  static NodeRegistry registry;
  return registry;
}

void NodeRegistry::registerSource(const std::string& type, NodeFactory factory) {
  std::lock_guard lock(mutex_);
  sources_[type] = std::move(factory);
}

void NodeRegistry::registerSink(const std::string& type, NodeFactory factory) {
  std::lock_guard lock(mutex_);
  sinks_[type] = std::move(factory);
}

void NodeRegistry::registerOperator(const std::string& kind, NodeFactory factory) {
  std::lock_guard lock(mutex_);
  operators_[kind] = std::move(factory);
}

Result<NodeFactory> NodeRegistry::lookup(const NodeSpec& spec) const {
  std::lock_guard lock(mutex_);
  const std::map<std::string, NodeFactory>* factories = &operators_;
  std::string_view noun = "node";
  std::string_view kindName = "operator";
  if (spec.role == NodeRole::kSource) {
    factories = &sources_;
    noun = "source";
    kindName = "source";
  } else if (spec.role == NodeRole::kSink) {
    factories = &sinks_;
    noun = "sink";
    kindName = "sink";
  }

  const std::string kind = spec.role == NodeRole::kOperator ? operatorKindOf(spec) : typeOf(spec);
  if (kind.empty()) {
    std::string hint = spec.role == NodeRole::kOperator
                           ? fmt::format("has no 'type' and none of the keys {} that imply 'map'",
                                         fmt::join(std::begin(kMapKeys), std::end(kMapKeys), ", "))
                           : std::string("needs a 'type'");
    return Status::invalidArgument(fmt::format("{} '{}' (line {}) {}; known {} types: {}", noun, spec.id, spec.line,
                                               hint, kindName, knownKinds(*factories)));
  }
  auto it = factories->find(kind);
  if (it == factories->end()) {
    return Status::invalidArgument(fmt::format("{} '{}' (line {}): unknown {} type '{}'; known {} types: {}", noun,
                                               spec.id, spec.line, kindName, kind, kindName, knownKinds(*factories)));
  }
  return it->second;
}

std::string operatorKindOf(const NodeSpec& spec) {
  std::string type = typeOf(spec);
  if (!type.empty()) return type;
  if (!spec.options.IsMap()) return "";
  const YAML::Node& options = spec.options;
  for (const char* key : kMapKeys) {
    if (options[key].IsDefined()) return "map";
  }
  return "";
}

}  // namespace sluice
