// Deliberately broken plugins for the loader's error tests: one source, built
// once per SLUICE_TEST_PLUGIN_<VARIANT> definition (see CMakeLists.txt).
#include <stdexcept>

#include <sluice/plugin.h>

#if defined(SLUICE_TEST_PLUGIN_MINIMAL)
// A valid plugin with one operator that forwards its input.
namespace {
class Noop final : public sluice::Operator {
 public:
  sluice::Status processBatch(int, const sluice::RecordBatch& batch, sluice::Output& out) override {
    return out.emit(batch);
  }
};
}  // namespace

SLUICE_PLUGIN(registrar) {
  registrar.registerOperator("noop", [](sluice::OperatorRequest& request) -> sluice::Result<sluice::OperatorPlan> {
    sluice::OperatorPlan plan;
    plan.outputs[""] = request.inputs.at(0);
    plan.createOperator = [] { return std::make_unique<Noop>(); };
    return plan;
  });
}

#elif defined(SLUICE_TEST_PLUGIN_WRONG_VERSION)
// Built against a "future" API.
extern "C" __attribute__((visibility("default"))) int sluice_plugin_api_version() {
  return sluice::kSluicePluginApiVersion + 1;
}
extern "C" __attribute__((visibility("default"))) void sluice_plugin_register(sluice::PluginRegistrar&) {}

#elif defined(SLUICE_TEST_PLUGIN_NO_REGISTER)
// The version symbol but no registration function.
extern "C" __attribute__((visibility("default"))) int sluice_plugin_api_version() {
  return sluice::kSluicePluginApiVersion;
}

#elif defined(SLUICE_TEST_PLUGIN_NOT_A_PLUGIN)
// A shared library that is not a plugin at all.
extern "C" __attribute__((visibility("default"))) int sluice_something_else() { return 0; }

#elif defined(SLUICE_TEST_PLUGIN_CLASHING_AGGREGATE)
// Tries to replace the built-in `sum`.
SLUICE_PLUGIN(registrar) {
  registrar.registerAggregate(
      "sum", [](std::optional<sluice::DataType>) -> sluice::Result<sluice::window::AggregateFunctionPtr> {
        return sluice::Status::internal("never called");
      });
}

#elif defined(SLUICE_TEST_PLUGIN_THROWING)
SLUICE_PLUGIN(registrar) {
  (void)registrar;
  throw std::runtime_error("registration exploded");
}
#endif
