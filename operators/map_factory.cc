// Map factory: YAML options → MapProgram compiled once → one MapOperator per subtask.
#include "operators/map_factory.h"

#include "operators/option_reader.h"

namespace sluice {

Result<MapOptions> parseMapOptions(const NodeSpec& spec) {
  OptionReader reader = OptionReader::forSpec(spec);
  MapOptions options;
  SLUICE_ASSIGN_OR_RETURN(auto filter, reader.string("filter"));
  SLUICE_ASSIGN_OR_RETURN(auto where, reader.string("where"));
  YAML::Node select = reader.take("select");
  SLUICE_ASSIGN_OR_RETURN(options.eventTime, reader.string("event_time"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (filter.has_value() && where.has_value()) return reader.error("give 'filter' or 'where', not both");
  options.filter = filter.has_value() ? filter : where;

  if (select.IsDefined() && !select.IsNull()) {
    if (select.IsSequence()) {
      for (const auto& item : select) {
        if (!item.IsScalar()) return reader.error("select: a list holds field names");
        options.select.emplace_back(item.Scalar(), item.Scalar());
      }
    } else if (select.IsMap()) {
      for (const auto& entry : select) {
        if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
          return reader.error("select: expected output names mapped to expressions");
        }
        options.select.emplace_back(entry.first.Scalar(), entry.second.Scalar());
      }
    } else {
      return reader.error("select: expected a mapping of output names to expressions");
    }
    if (options.select.empty()) return reader.error("select: no fields selected");
  }
  return options;
}

Result<PlannedNode> planMapNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                const PlanContext& context) {
  (void)context;
  const std::string prefix = "node '" + spec.id + "'";
  if (inputs.size() != 1) {
    return Status::invalidArgument(prefix + ": a map node takes exactly one input, got " +
                                   std::to_string(inputs.size()));
  }
  SLUICE_ASSIGN_OR_RETURN(MapOptions options, parseMapOptions(spec));
  auto program = MapProgram::compile(inputs[0].schema, inputs[0].eventTimeIndex, options);
  if (!program.ok()) return program.status().withContext(prefix);

  std::shared_ptr<const MapProgram> compiled = *program;
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kOperator;
  node.outputs[""] = StreamInfo{compiled->outputSchema(), compiled->outputEventTimeIndex()};
  node.inputs.push_back(InputPartitioning{PartitionKind::kForward, {}});
  node.createOperator = [compiled]() -> std::unique_ptr<Operator> { return std::make_unique<MapOperator>(compiled); };
  return node;
}

}  // namespace sluice
