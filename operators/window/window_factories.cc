// Window factories: option parsing and PlannedNode construction for window and window_top_n.
#include "operators/window/window_factories.h"

#include <sstream>

namespace sluice::window {
namespace {

Status oneInput(const NodeSpec& spec, const std::vector<StreamInfo>& inputs, const std::string& kind) {
  if (inputs.size() == 1) return Status::OK();
  return Status::invalidArgument("node '" + spec.id + "': a " + kind + " node takes exactly one input, got " +
                                 std::to_string(inputs.size()));
}

}  // namespace

Result<WindowSpec> parseWindowSpec(NodeOptionReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(auto tumble, reader.durationMillis("tumble"));
  SLUICE_ASSIGN_OR_RETURN(auto hop, reader.durationMillis("hop"));
  SLUICE_ASSIGN_OR_RETURN(auto slide, reader.durationMillis("slide"));
  SLUICE_ASSIGN_OR_RETURN(auto session, reader.durationMillis("session"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  const int kinds = (tumble.has_value() ? 1 : 0) + (hop.has_value() ? 1 : 0) + (session.has_value() ? 1 : 0);
  if (kinds != 1) {
    return reader.error("give exactly one of {tumble: 10s}, {hop: 10s, slide: 2s} or {session: 10s}");
  }
  if (slide.has_value() != hop.has_value()) return reader.error("'slide' goes with 'hop' (and only with it)");
  WindowSpec spec;
  if (tumble.has_value()) spec = WindowSpec::tumble(*tumble);
  if (hop.has_value()) spec = WindowSpec::hop(*hop, *slide);
  if (session.has_value()) spec = WindowSpec::session(*session);
  if (spec.isSession() ? spec.gap <= 0 : (spec.size <= 0 || spec.slide <= 0)) {
    return reader.error("window sizes, slides and gaps must be positive");
  }
  return spec;
}

Result<WindowAggregateOptions> parseWindowAggregateOptions(const NodeSpec& spec) {
  NodeOptionReader reader = NodeOptionReader::forSpec(spec);
  WindowAggregateOptions options;
  SLUICE_ASSIGN_OR_RETURN(auto keyBy, reader.stringList("key_by"));
  if (keyBy.has_value()) options.keyBy = *keyBy;
  SLUICE_ASSIGN_OR_RETURN(auto window, reader.mapping("window"));
  if (!window.has_value())
    return reader.error("missing 'window', as {tumble: 10s}, {hop: 10s, slide: 2s} or {session: 10s}");
  SLUICE_ASSIGN_OR_RETURN(options.window, parseWindowSpec(*window));
  SLUICE_ASSIGN_OR_RETURN(auto lateness, reader.durationMillis("allowed_lateness"));
  options.allowedLateness = lateness.value_or(0);
  if (options.allowedLateness < 0) return reader.error("allowed_lateness must not be negative");
  SLUICE_ASSIGN_OR_RETURN(auto aggregate, reader.mapping("aggregate"));
  if (!aggregate.has_value()) return reader.error("missing 'aggregate', as {num: \"count()\", total: \"sum(price)\"}");
  for (const std::string& name : aggregate->keys()) {
    SLUICE_ASSIGN_OR_RETURN(auto call, aggregate->string(name));
    if (!call.has_value() || call->empty()) return aggregate->error("'" + name + "' needs a call such as count()");
    options.aggregates.push_back(AggregateCall{name, *call});
  }
  if (options.aggregates.empty()) return aggregate->error("give at least one aggregate");
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return options;
}

Result<WindowTopNOptions> parseWindowTopNOptions(const NodeSpec& spec) {
  NodeOptionReader reader = NodeOptionReader::forSpec(spec);
  WindowTopNOptions options;
  SLUICE_ASSIGN_OR_RETURN(auto partitionBy, reader.stringList("partition_by"));
  if (partitionBy.has_value()) options.partitionBy = *partitionBy;
  SLUICE_ASSIGN_OR_RETURN(auto orderBy, reader.stringList("order_by"));
  if (!orderBy.has_value()) return reader.error("missing 'order_by', as 'price desc'");
  for (const std::string& item : *orderBy) {
    std::stringstream parts(item);
    std::string part;
    while (std::getline(parts, part, ',')) {
      std::stringstream words(part);
      std::string field, direction, extra;
      words >> field >> direction >> extra;
      if (field.empty()) continue;
      for (char& c : direction) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!extra.empty() || (!direction.empty() && direction != "asc" && direction != "desc")) {
        return reader.error("order_by: '" + part + "' must be 'field', 'field asc' or 'field desc'");
      }
      options.orderBy.emplace_back(field, direction == "desc");
    }
  }
  if (options.orderBy.empty()) return reader.error("order_by: give at least one field, as 'price desc'");
  SLUICE_ASSIGN_OR_RETURN(auto limit, reader.integer("limit"));
  options.limit = limit.value_or(1);
  if (options.limit < 1) return reader.error("limit must be at least 1");
  SLUICE_ASSIGN_OR_RETURN(auto withTies, reader.boolean("with_ties"));
  options.withTies = withTies.value_or(true);
  SLUICE_ASSIGN_OR_RETURN(auto window, reader.mapping("window"));
  if (window.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(WindowSpec windowSpec, parseWindowSpec(*window));
    options.window = windowSpec;
  }
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return options;
}

Result<PlannedNode> planWindowAggregateNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                            const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(oneInput(spec, inputs, "window"));
  SLUICE_ASSIGN_OR_RETURN(WindowAggregateOptions options, parseWindowAggregateOptions(spec));
  auto program = WindowAggregateProgram::compile(inputs[0].schema, inputs[0].eventTimeIndex, options);
  if (!program.ok()) return program.status().withContext("node '" + spec.id + "'");
  std::shared_ptr<const WindowAggregateProgram> compiled = *program;

  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{compiled->outputSchema(), compiled->outputEventTimeIndex()};
  node.outputs[std::string(kLateTag)] = inputs[0];
  if (compiled->keyed()) {
    node.inputs.push_back(InputPartitioning{PartitionKind::kHash, compiled->keyColumns()});
    node.keyed = true;
  } else {
    node.inputs.push_back(InputPartitioning{PartitionKind::kRebalance, {}});
    node.fixedParallelism = 1;
  }
  node.createOperator = [compiled]() -> std::unique_ptr<Operator> {
    return std::make_unique<WindowAggregateOperator>(compiled);
  };
  return node;
}

Result<PlannedNode> planWindowTopNNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                       const PlanContext& context) {
  (void)context;
  SLUICE_RETURN_NOT_OK(oneInput(spec, inputs, "window_top_n"));
  SLUICE_ASSIGN_OR_RETURN(WindowTopNOptions options, parseWindowTopNOptions(spec));
  auto program = WindowTopNProgram::compile(inputs[0].schema, inputs[0].eventTimeIndex, options);
  if (!program.ok()) return program.status().withContext("node '" + spec.id + "'");
  std::shared_ptr<const WindowTopNProgram> compiled = *program;

  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{compiled->outputSchema(), compiled->outputEventTimeIndex()};
  node.outputs[std::string(kLateTag)] = inputs[0];
  if (compiled->keyed()) {
    node.inputs.push_back(InputPartitioning{PartitionKind::kHash, compiled->hashColumns()});
    node.keyed = true;
  } else {
    node.inputs.push_back(InputPartitioning{PartitionKind::kRebalance, {}});
    node.fixedParallelism = 1;
  }
  node.createOperator = [compiled]() -> std::unique_ptr<Operator> {
    return std::make_unique<WindowTopNOperator>(compiled);
  };
  return node;
}

}  // namespace sluice::window
