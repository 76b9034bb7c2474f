// The Sluice plugin API: what a C++ shared library exports to add operators,
// keyed process functions and aggregate functions to the engine. Start here:
// `#include <sluice/plugin.h>` and define `SLUICE_PLUGIN(registrar) { ... }`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "operators/window/aggregate_function.h"
#include "runtime/base/result.h"
#include "runtime/job/node_factory.h"
#include "runtime/task/operator.h"
#include "sluice/keyed_process_function.h"
#include "sluice/plugin_options.h"

namespace sluice {

/// The version of this interface (the registrar, requests, plans, the process
/// function and context classes). The engine loads a plugin only when the
/// plugin's `sluice_plugin_api_version()` returns exactly this number. Bump it
/// on every change to those classes.
inline constexpr int kSluicePluginApiVersion = 1;

/// What the engine tells a plugin operator's factory about the node it plans.
struct OperatorRequest {
  std::string nodeId;
  PluginOptions options;
  /// One per `from` entry of the node, in order.
  std::vector<StreamInfo> inputs;
  /// Per input, the indexes of the key_by fields (empty without key_by). With
  /// key_by the engine hash-partitions every input on those fields and gives
  /// each subtask a keyed state backend (OperatorContext::keyedStateBackend).
  std::vector<std::vector<int>> keyColumns;
};

/// A plugin operator's answer: its output streams and how to create one
/// operator per subtask (called from any thread; instances are used from their
/// task thread only).
struct OperatorPlan {
  /// By tag: "" is the main output, other tags are side outputs (`node.tag`).
  std::map<std::string, StreamInfo> outputs;
  std::function<std::unique_ptr<Operator>()> createOperator;
};

/// Validates options and inputs; errors should come from request.options.error().
using OperatorFactory = std::function<Result<OperatorPlan>(OperatorRequest& request)>;

/// What the engine tells a keyed process function's factory.
struct ProcessFunctionRequest {
  std::string nodeId;
  PluginOptions options;
  /// The single input stream.
  StreamInfo input;
  /// The key_by fields' indexes in the input.
  std::vector<int> keyColumns;
};

/// A keyed process function's answer: the schemas it emits and a factory.
struct ProcessFunctionPlan {
  /// The main output (its eventTimeIndex, if any, names the event-time field).
  StreamInfo output;
  /// Side outputs by tag (not ""); downstream nodes read them as `node.tag`.
  std::map<std::string, StreamInfo> sideOutputs;
  /// One function per subtask; called from any thread.
  std::function<std::unique_ptr<KeyedProcessFunction>()> createFunction;
};

using ProcessFunctionFactory = std::function<Result<ProcessFunctionPlan>(ProcessFunctionRequest& request)>;

/// Handed to `sluice_plugin_register`; records what the plugin offers. Names
/// are identifiers (letters, digits, '_'); registering a name twice, or an
/// aggregate name the engine already knows, makes loading fail. Operators and
/// process functions share one namespace per plugin; aggregates are global
/// (usable in every window node as `name(expr)` once the plugin is loaded).
/// Implemented by the engine; only valid during `sluice_plugin_register`.
class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  /// A general operator, used as `{type: plugin, plugin: P, operator: name}`.
  virtual void registerOperator(const std::string& name, OperatorFactory factory) = 0;
  /// A keyed process function, used as `{type: process, plugin: P, function: name, key_by: ...}`.
  virtual void registerProcessFunction(const std::string& name, ProcessFunctionFactory factory) = 0;
  /// A window aggregate (see operators/window/aggregate_function.h).
  virtual void registerAggregate(const std::string& name, window::AggregateFactory factory) = 0;
};

}  // namespace sluice

/// The symbol names the engine looks up with dlsym.
#define SLUICE_PLUGIN_VERSION_SYMBOL "sluice_plugin_api_version"
#define SLUICE_PLUGIN_REGISTER_SYMBOL "sluice_plugin_register"

/// Defines the two entry points of a plugin: the API version it was compiled
/// against and its registration function, whose body follows the macro:
///
///   SLUICE_PLUGIN(registrar) {
///     registrar.registerProcessFunction("dedup", planDedup);
///   }
#define SLUICE_PLUGIN(registrar)                                                      \
  extern "C" __attribute__((visibility("default"))) int sluice_plugin_api_version() { \
    return ::sluice::kSluicePluginApiVersion;                                         \
  }                                                                                   \
  extern "C" __attribute__((visibility("default"))) void sluice_plugin_register(::sluice::PluginRegistrar& registrar)
