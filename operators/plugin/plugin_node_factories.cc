// Planning of `process` and `plugin` nodes: plugin lookup, option hand-off,
// plan validation and the PlannedNode.
#include "operators/plugin/plugin_node_factories.h"

#include <exception>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "operators/option_reader.h"
#include "operators/plugin/keyed_process_operator.h"
#include "operators/plugin/plugin_loader.h"

namespace sluice {
namespace {

/// Keys the engine reads itself; everything else belongs to the plugin.
const std::set<std::string> kEngineKeys = {"id",     "type",     "from",     "parallelism",
                                           "plugin", "function", "operator", "key_by"};

std::string listOrNone(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

/// The plugin-owned options of a node: scalars as written, the rest as YAML flow text.
Result<PluginOptions> pluginOptionsOf(const NodeSpec& spec) {
  const std::string context = "node '" + spec.id + "'";
  try {
    std::vector<std::pair<std::string, std::string>> values;
    for (auto it = spec.options.begin(); it != spec.options.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar() || kEngineKeys.count(key.Scalar()) > 0) continue;
      if (value.IsScalar()) {
        values.emplace_back(key.Scalar(), value.Scalar());
      } else {
        YAML::Emitter emitter;
        emitter.SetMapFormat(YAML::Flow);
        emitter.SetSeqFormat(YAML::Flow);
        emitter << value;
        values.emplace_back(key.Scalar(), emitter.c_str());
      }
    }
    return PluginOptions(context, std::move(values), YAML::Dump(spec.options));
  } catch (const YAML::Exception& error) {
    return Status::invalidArgument(context + ": cannot read the options: " + error.msg);
  }
}

/// Marks the plugin-owned keys read in `reader`: they are checked after the
/// plugin's factory ran (checkAllOptionsRead), so the reader checks engine keys only.
void markPluginKeysRead(const NodeSpec& spec, OptionReader& reader) {
  for (auto it = spec.options.begin(); it != spec.options.end(); ++it) {
    const YAML::Node key = it->first;
    if (key.IsScalar() && kEngineKeys.count(key.Scalar()) == 0) reader.take(key.Scalar());
  }
}

Status checkAllOptionsRead(const PluginOptions& options, const std::string& description) {
  std::vector<std::string> unread = options.unread();
  if (unread.empty()) return Status::OK();
  return options.error(fmt::format("unknown option{} '{}' for {} (it reads: {})", unread.size() > 1 ? "s" : "",
                                   fmt::join(unread, "', '"), description, listOrNone(options.read())));
}

Result<std::vector<int>> keyColumnsOf(const OptionReader& reader, const std::vector<std::string>& keyBy,
                                      const Schema& schema) {
  std::vector<int> columns;
  for (const std::string& name : keyBy) {
    std::optional<int> index = schema.indexOf(name);
    if (!index) {
      std::vector<std::string> fields;
      for (const Field& field : schema.fields()) fields.push_back(field.name);
      return reader.error(fmt::format("key_by: unknown field '{}' (fields: {})", name, fmt::join(fields, ", ")));
    }
    columns.push_back(*index);
  }
  if (columns.empty()) return reader.error("key_by: name at least one field");
  return columns;
}

/// The plugin `name` as the job declares it, loading every declared plugin.
Result<std::shared_ptr<const LoadedPlugin>> findPlugin(const OptionReader& reader, const PlanContext& context,
                                                       const std::string& name) {
  if (context.job == nullptr) return reader.error("plugins need the job spec in the plan context");
  SLUICE_ASSIGN_OR_RETURN(auto plugins,
                          context.pluginFiles != nullptr
                              ? loadJobPlugins(*context.job, context.workingDirectory, *context.pluginFiles)
                              : loadJobPlugins(*context.job, context.workingDirectory));
  auto it = plugins.find(name);
  if (it == plugins.end()) {
    std::vector<std::string> declared;
    for (const auto& [declaredName, plugin] : plugins) declared.push_back(declaredName);
    return reader.error(
        fmt::format("plugin '{}' is not declared; add {{name: {}, path: ...}} to the job's 'plugins:' "
                    "list (declared: {})",
                    name, name, listOrNone(declared)));
  }
  return it->second;
}

/// Calls a plugin factory, turning exceptions into errors naming the node.
template <typename Plan, typename Factory, typename Request>
Result<Plan> callFactory(const Factory& factory, Request& request, const std::string& description) {
  try {
    return factory(request);
  } catch (const std::exception& exception) {
    return Status::userCodeError(
        fmt::format("node '{}': {} threw while planning: {}", request.nodeId, description, exception.what()));
  } catch (...) {
    return Status::userCodeError(
        fmt::format("node '{}': {} threw a non-standard exception while planning", request.nodeId, description));
  }
}

Status checkStream(const OptionReader& reader, const StreamInfo& stream, const std::string& what,
                   const std::string& description) {
  if (stream.schema == nullptr || stream.schema->numFields() == 0) {
    return reader.error(fmt::format("{} declared no schema (or one without fields) for its {}", description, what));
  }
  if (stream.eventTimeIndex < -1 || stream.eventTimeIndex >= stream.schema->numFields() ||
      (stream.eventTimeIndex >= 0 && !isInt64Like(stream.schema->field(stream.eventTimeIndex).type))) {
    return reader.error(fmt::format("{} declared an invalid event-time field (index {}) for its {}", description,
                                    stream.eventTimeIndex, what));
  }
  return Status::OK();
}

Status checkTag(const OptionReader& reader, const std::string& tag, const std::string& description) {
  if (tag.empty() || tag.find('.') != std::string::npos) {
    return reader.error(
        fmt::format("{} declared side output '{}': tags are non-empty and have no '.'", description, tag));
  }
  return Status::OK();
}

/// Plans a keyed process node once the function's factory is known.
Result<PlannedNode> planKeyedProcess(const NodeSpec& spec, OptionReader& reader, const std::vector<StreamInfo>& inputs,
                                     const ProcessFunctionFactory& factory, const std::string& description,
                                     const std::optional<std::vector<std::string>>& keyBy) {
  if (inputs.size() != 1) {
    return reader.error(fmt::format("a process node reads exactly one stream, 'from' names {}", inputs.size()));
  }
  if (!keyBy) return reader.error("missing 'key_by': a process node is keyed (key_by: field or [fields])");
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());  // only engine keys remain for the reader

  ProcessFunctionRequest request;
  request.nodeId = spec.id;
  SLUICE_ASSIGN_OR_RETURN(request.options, pluginOptionsOf(spec));
  request.input = inputs[0];
  SLUICE_ASSIGN_OR_RETURN(request.keyColumns, keyColumnsOf(reader, *keyBy, *inputs[0].schema));

  SLUICE_ASSIGN_OR_RETURN(ProcessFunctionPlan plan, (callFactory<ProcessFunctionPlan>(factory, request, description)));
  SLUICE_RETURN_NOT_OK(checkAllOptionsRead(request.options, description));
  SLUICE_RETURN_NOT_OK(checkStream(reader, plan.output, "main output", description));
  if (!plan.createFunction) return reader.error(description + " returned a plan without createFunction");

  auto shared = std::make_shared<KeyedProcessPlan>();
  shared->description = description;
  shared->input = inputs[0];
  shared->keyColumns = request.keyColumns;
  shared->output = plan.output;
  shared->createFunction = std::move(plan.createFunction);

  PlannedNode planned;
  planned.outputs[""] = plan.output;
  for (const auto& [tag, stream] : plan.sideOutputs) {
    SLUICE_RETURN_NOT_OK(checkTag(reader, tag, description));
    SLUICE_RETURN_NOT_OK(checkStream(reader, stream, "side output '" + tag + "'", description));
    planned.outputs[tag] = stream;
  }
  shared->sideOutputs = std::move(plan.sideOutputs);
  planned.inputs.push_back(InputPartitioning{PartitionKind::kHash, request.keyColumns});
  planned.keyed = true;
  std::shared_ptr<const KeyedProcessPlan> frozen = std::move(shared);
  planned.createOperator = [frozen]() -> std::unique_ptr<Operator> {
    return std::make_unique<KeyedProcessOperator>(frozen);
  };
  return planned;
}

}  // namespace

Result<PlannedNode> planProcessNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> pluginName, reader.string("plugin"));
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> functionName, reader.string("function"));
  SLUICE_ASSIGN_OR_RETURN(auto keyBy, reader.stringList("key_by"));
  markPluginKeysRead(spec, reader);
  if (!functionName || functionName->empty()) {
    return reader.error("missing 'function': the keyed process function to run (e.g. function: dedup)");
  }

  std::shared_ptr<const LoadedPlugin> plugin;
  std::string description;
  if (pluginName) {
    SLUICE_ASSIGN_OR_RETURN(plugin, findPlugin(reader, context, *pluginName));
    description = fmt::format("process function '{}.{}'", *pluginName, *functionName);
  } else {
    plugin = PluginLoader::instance().builtins();
    description = fmt::format("process function '{}'", *functionName);
  }
  const ProcessFunctionFactory* factory = plugin->findProcessFunction(*functionName);
  if (factory == nullptr) {
    if (!pluginName) {
      return reader.error(
          fmt::format("no built-in process function '{}' (built-in: {}); to use a plugin's, add "
                      "'plugin: <name>'",
                      *functionName, listOrNone(plugin->processFunctionNames())));
    }
    std::string hint =
        plugin->findOperator(*functionName) != nullptr
            ? fmt::format("; '{}' is an operator: use type: plugin, operator: {}", *functionName, *functionName)
            : "";
    return reader.error(fmt::format("plugin '{}' has no process function '{}' (it has: {}){}", *pluginName,
                                    *functionName, listOrNone(plugin->processFunctionNames()), hint));
  }
  return planKeyedProcess(spec, reader, inputs, *factory, description, keyBy);
}

Result<PlannedNode> planPluginNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                   const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> pluginName, reader.string("plugin"));
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> operatorName, reader.string("operator"));
  SLUICE_ASSIGN_OR_RETURN(auto keyBy, reader.stringList("key_by"));
  markPluginKeysRead(spec, reader);
  if (!pluginName || pluginName->empty()) return reader.error("missing 'plugin': the name of a plugin in 'plugins:'");
  if (!operatorName || operatorName->empty()) {
    return reader.error("missing 'operator': the plugin operator to run (e.g. operator: dedup)");
  }
  SLUICE_ASSIGN_OR_RETURN(auto plugin, findPlugin(reader, context, *pluginName));
  const std::string description = fmt::format("plugin operator '{}.{}'", *pluginName, *operatorName);

  if (const ProcessFunctionFactory* process = plugin->findProcessFunction(*operatorName)) {
    return planKeyedProcess(spec, reader, inputs, *process,
                            fmt::format("process function '{}.{}'", *pluginName, *operatorName), keyBy);
  }
  const OperatorFactory* factory = plugin->findOperator(*operatorName);
  if (factory == nullptr) {
    return reader.error(fmt::format("plugin '{}' has no operator '{}' (it has: {})", *pluginName, *operatorName,
                                    listOrNone(plugin->operatorNames())));
  }
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());

  OperatorRequest request;
  request.nodeId = spec.id;
  SLUICE_ASSIGN_OR_RETURN(request.options, pluginOptionsOf(spec));
  request.inputs = inputs;
  if (keyBy) {
    for (const StreamInfo& input : inputs) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<int> columns, keyColumnsOf(reader, *keyBy, *input.schema));
      request.keyColumns.push_back(std::move(columns));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(OperatorPlan plan, (callFactory<OperatorPlan>(*factory, request, description)));
  SLUICE_RETURN_NOT_OK(checkAllOptionsRead(request.options, description));
  if (!plan.createOperator) return reader.error(description + " returned a plan without createOperator");
  for (const auto& [tag, stream] : plan.outputs) {
    if (!tag.empty()) SLUICE_RETURN_NOT_OK(checkTag(reader, tag, description));
    SLUICE_RETURN_NOT_OK(
        checkStream(reader, stream, tag.empty() ? std::string("main output") : "output '" + tag + "'", description));
  }

  PlannedNode planned;
  planned.outputs = plan.outputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    planned.inputs.push_back(keyBy ? InputPartitioning{PartitionKind::kHash, request.keyColumns[i]}
                                   : InputPartitioning{PartitionKind::kForward, {}});
  }
  planned.keyed = keyBy.has_value();
  auto create = std::make_shared<std::function<std::unique_ptr<Operator>()>>(std::move(plan.createOperator));
  planned.createOperator = [create]() -> std::unique_ptr<Operator> {
    try {
      return (*create)();
    } catch (...) {
      return nullptr;  // the runtime reports "created no operator" for the node
    }
  };
  return planned;
}

}  // namespace sluice
