// Planner factories for the built-in sinks: file, print and discard.
#pragma once

#include <vector>

#include "operators/file_sink.h"
#include "runtime/job/node_factory.h"

namespace sluice {

/// Reads a `type: file` sink spec: `path` (the output directory, relative to
/// context.workingDirectory) and `format` (jsonl, the default, or csv).
Result<FileSinkOptions> parseFileSinkOptions(const NodeSpec& spec, const PlanContext& context);

/// NodeFactory for `type: file` sinks; `prepare` runs FileSink::prepare.
Result<PlannedNode> planFileSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                 const PlanContext& context);
/// NodeFactory for `type: print` sinks (JSON lines on stdout).
Result<PlannedNode> planPrintSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                  const PlanContext& context);
/// NodeFactory for `type: discard` sinks (count only).
Result<PlannedNode> planDiscardSink(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                    const PlanContext& context);

}  // namespace sluice
