// The example plugin's entry points: what libsluice_example_plugin.so registers.
#include "examples/plugin/example_plugin.h"

SLUICE_PLUGIN(registrar) {
  registrar.registerProcessFunction("dedup", sluice::example::planDedup);
  registrar.registerOperator("label", sluice::example::planLabel);
  registrar.registerAggregate("geomean", sluice::example::createGeomean);
}
