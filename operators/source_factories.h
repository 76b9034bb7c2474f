// Planner factories for the built-in sources: YAML options → validated options → PlannedNode.
#pragma once

#include <vector>

#include "operators/file_source.h"
#include "operators/generator_source.h"
#include "runtime/job/node_factory.h"

namespace sluice {

/// Reads a `type: file` source spec (see operators/README.md for its keys).
/// Relative paths resolve against context.workingDirectory; the file must be
/// readable ("source 'events': cannot open '/x/y.jsonl': No such file or
/// directory"). `batch_size` falls back to sluice.source.batch-size and the
/// rate limit comes from sluice.source.rate-limit.
Result<FileSourceOptions> parseFileSourceOptions(const NodeSpec& spec, const PlanContext& context);
/// NodeFactory for `type: file` sources.
Result<PlannedNode> planFileSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                   const PlanContext& context);

/// Reads a `type: generator` source spec.
Result<GeneratorOptions> parseGeneratorOptions(const NodeSpec& spec, const PlanContext& context);
/// NodeFactory for `type: generator` sources.
Result<PlannedNode> planGeneratorSource(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                        const PlanContext& context);

}  // namespace sluice
