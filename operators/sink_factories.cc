// Sink factories: option parsing and PlannedNodes whose operators write rows out.
#include "operators/sink_factories.h"

#include <filesystem>

#include "operators/discard_sink.h"
#include "operators/option_reader.h"
#include "operators/print_sink.h"

namespace sluice {
namespace {

/// A sink node with forward inputs and no outputs, creating operators with `create`.
Result<PlannedNode> sinkNode(const NodeSpec& spec, const std::vector<StreamInfo>& inputs, OptionReader& reader,
                             std::function<std::unique_ptr<Operator>()> create) {
  if (inputs.empty()) return reader.error("a sink needs at least one input ('from')");
  PlannedNode node;
  node.id = spec.id;
  node.role = NodeRole::kSink;
  node.inputs.assign(inputs.size(), InputPartitioning{PartitionKind::kForward, {}});
  node.createOperator = std::move(create);
  return node;
}

}  // namespace

Result<FileSinkOptions> parseFileSinkOptions(const NodeSpec& spec, const PlanContext& context) {
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(auto path, reader.string("path"));
  SLUICE_ASSIGN_OR_RETURN(auto format, reader.string("format"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  FileSinkOptions options;
  options.sinkId = spec.id;
  if (!path.has_value() || path->empty()) return reader.error("missing option 'path' (the output directory)");
  std::filesystem::path directory(*path);
  if (directory.is_relative() && !context.workingDirectory.empty()) {
    directory = std::filesystem::path(context.workingDirectory) / directory;
  }
  options.directory = directory.lexically_normal().string();
  while (options.directory.size() > 1 && options.directory.back() == '/') options.directory.pop_back();
  if (format.has_value()) {
    auto parsed = parseFileFormat(*format);
    if (!parsed.has_value()) return reader.error("format: unknown format '" + *format + "' (formats: jsonl, csv)");
    options.format = *parsed;
  }
  return options;
}

Result<PlannedNode> planFileSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context) {
  SLUICE_ASSIGN_OR_RETURN(FileSinkOptions parsed, parseFileSinkOptions(spec, context));
  auto options = std::make_shared<const FileSinkOptions>(std::move(parsed));
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_ASSIGN_OR_RETURN(PlannedNode node, sinkNode(spec, inputs, reader, [options]() -> std::unique_ptr<Operator> {
                            return std::make_unique<FileSink>(options);
                          }));
  node.prepare = [options](bool resuming) { return FileSink::prepare(*options, resuming); };
  return node;
}

Result<PlannedNode> planPrintSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context) {
  (void)context;
  OptionReader reader = OptionReader::forSpec(spec);
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  return sinkNode(spec, inputs, reader, []() -> std::unique_ptr<Operator> { return std::make_unique<PrintSink>(); });
}

Result<PlannedNode> planDiscardSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context) {
  (void)context;
  OptionReader reader = OptionReader::forSpec(spec);
  // Per subtask; absent = unlimited. Used to build deliberately slow sinks.
  SLUICE_ASSIGN_OR_RETURN(auto maxRowsPerSecond, reader.number("max_rows_per_second"));
  SLUICE_RETURN_NOT_OK(reader.checkAllRead());
  if (maxRowsPerSecond.has_value() && !(*maxRowsPerSecond > 0)) {
    return reader.error("max_rows_per_second must be a positive number of rows per second");
  }
  return sinkNode(spec, inputs, reader, [maxRowsPerSecond]() -> std::unique_ptr<Operator> {
    return std::make_unique<DiscardSink>(maxRowsPerSecond);
  });
}

}  // namespace sluice
