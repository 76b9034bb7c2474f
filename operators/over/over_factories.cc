// Over factories: option parsing and PlannedNode construction for sort and over.
#include "operators/over/over_factories.h"

#include "operators/window/node_option_reader.h"

namespace sluice::over {
namespace {

using window::NodeOptionReader;

Status oneInput(const NodeSpec& spec, const std::vector<StreamInfo>& inputs, const std::string& kind) {
  if (inputs.size() == 1) return Status::OK();
  return Status::invalidArgument("node '" + spec.id + "': a " + kind + " node takes exactly one input, got " +
                                 std::to_string(inputs.size()));
}

/// Keyed nodes hash-partition their input by the key; global ones run once.
void setPartitioning(PlannedNode& node, const std::vector<int>& keyColumns) {
  if (!keyColumns.empty()) {
    node.inputs.push_back(InputPartitioning{PartitionKind::kHash, keyColumns});
    node.keyed = true;
  } else {
    node.inputs.push_back(InputPartitioning{PartitionKind::kRebalance, {}});
    node.fixedParallelism = 1;
  }
}

}  // namespace

Result<SortOptions> parseSortOptions(const NodeSpec& spec) {
  NodeOptionReader reader = NodeOptionReader::forSpec(spec);
  SortOptions options;
  SLUICE_ASSIGN_OR_RETURN(auto keyBy, reader.stringList("key_by"));
  if (keyBy.has_value()) options.keyBy = *keyBy;
  SLUICE_ASSIGN_OR_RETURN(auto orderBy, reader.stringList("order_by"));
  if (orderBy.has_value()) options.orderBy = *orderBy;
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return options;
}

Result<OverOptions> parseOverOptions(const NodeSpec& spec) {
  NodeOptionReader reader = NodeOptionReader::forSpec(spec);
  OverOptions options;
  SLUICE_ASSIGN_OR_RETURN(auto keyBy, reader.stringList("key_by"));
  if (keyBy.has_value()) options.keyBy = *keyBy;
  SLUICE_ASSIGN_OR_RETURN(auto orderBy, reader.stringList("order_by"));
  if (orderBy.has_value()) options.orderBy = *orderBy;
  SLUICE_ASSIGN_OR_RETURN(auto ties, reader.string("ties"));
  if (ties.has_value()) {
    if (*ties == "peers") {
      options.ties = OverTies::kPeers;
    } else if (*ties == "sequential") {
      options.ties = OverTies::kSequential;
    } else {
      return reader.error("ties must be 'peers' or 'sequential', not '" + *ties + "'");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto aggregates, reader.mapping("aggregates"));
  if (!aggregates.has_value()) {
    return reader.error("missing 'aggregates', as {cnt_10m: {fn: count, window: 10min}}");
  }
  for (const std::string& name : aggregates->keys()) {
    if (!aggregates->take(name).IsMap()) return aggregates->error("'" + name + "' needs {fn: ..., window: ...}");
    SLUICE_ASSIGN_OR_RETURN(auto entry, aggregates->mapping(name));
    OverAggregateSpec aggregate;
    aggregate.name = name;
    SLUICE_ASSIGN_OR_RETURN(auto function, entry->string("fn"));
    if (!function.has_value()) return entry->error("missing 'fn' (count, sum, min, max or count_distinct)");
    aggregate.function = *function;
    SLUICE_ASSIGN_OR_RETURN(auto argument, entry->string("arg"));
    aggregate.argument = argument.value_or("");
    SLUICE_ASSIGN_OR_RETURN(auto filter, entry->string("filter"));
    aggregate.filter = filter.value_or("");
    SLUICE_ASSIGN_OR_RETURN(auto window, entry->durationMillis("window"));
    if (!window.has_value()) return entry->error("missing 'window', a duration such as 10min or 24h");
    aggregate.window = *window;
    SLUICE_RETURN_NOT_OK(entry->checkAllRead());
    options.aggregates.push_back(std::move(aggregate));
  }
  if (options.aggregates.empty()) return aggregates->error("give at least one aggregate");
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return options;
}

Result<PlannedNode> planSortNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(oneInput(spec, inputs, "sort"));
  SLUICE_ASSIGN_OR_RETURN(SortOptions options, parseSortOptions(spec));
  auto program = SortProgram::compile(inputs[0].schema, inputs[0].eventTimeIndex, options);
  if (!program.ok()) return program.status().withContext("node '" + spec.id + "'");
  std::shared_ptr<const SortProgram> compiled = *program;

  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = inputs[0];
  node.outputs[std::string(kLateTag)] = inputs[0];
  setPartitioning(node, compiled->keyColumns());
  node.createOperator = [compiled]() -> std::unique_ptr<Operator> { return std::make_unique<SortOperator>(compiled); };
  return node;
}

Result<PlannedNode> planOverNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(oneInput(spec, inputs, "over"));
  SLUICE_ASSIGN_OR_RETURN(OverOptions options, parseOverOptions(spec));
  auto program = OverProgram::compile(inputs[0].schema, inputs[0].eventTimeIndex, options);
  if (!program.ok()) return program.status().withContext("node '" + spec.id + "'");
  std::shared_ptr<const OverProgram> compiled = *program;

  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{compiled->outputSchema(), compiled->eventTimeIndex()};
  node.outputs[std::string(kLateTag)] = inputs[0];
  setPartitioning(node, compiled->keyColumns());
  node.createOperator = [compiled]() -> std::unique_ptr<Operator> {
    return std::make_unique<OverAggregateOperator>(compiled);
  };
  return node;
}

}  // namespace sluice::over
