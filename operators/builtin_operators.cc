// registerBuiltinOperators: the one place that maps kind names to this module's factories.
#include "operators/builtin_operators.h"

#include <mutex>

#include "operators/map_factory.h"
#include "operators/nexmark/nexmark_source.h"
#include "operators/sink_factories.h"
#include "operators/source_factories.h"
#include "runtime/job/node_factory.h"

namespace sluice {

void registerBuiltinOperators() {
  static std::once_flag once;
  std::call_once(once, [] {
    NodeRegistry& registry = NodeRegistry::instance();
    registry.registerSource("file", planFileSource);
    registry.registerSource("generator", planGeneratorSource);
    registry.registerSource("nexmark", planNexmarkSource);
    registry.registerSink("file", planFileSink);
    registry.registerSink("print", planPrintSink);
    registry.registerSink("discard", planDiscardSink);
    registry.registerOperator("map", planMapNode);
  });
}

}  // namespace sluice
