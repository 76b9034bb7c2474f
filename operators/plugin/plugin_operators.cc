// registerPluginOperators: maps the plugin node kinds to their factories.
#include "operators/plugin/plugin_operators.h"

#include <mutex>

#include "operators/plugin/plugin_node_factories.h"
#include "runtime/job/node_factory.h"

namespace sluice {

void registerPluginOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerOperator("process", planProcessNode);
    registry.registerOperator("plugin", planPluginNode);
  });
}

}  // namespace sluice
