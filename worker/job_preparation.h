// Turning a submitted job definition into a planned JobGraph, identically on the
// job manager (to validate and schedule) and on every worker (to run its tasks).
#pragma once

#include <map>
#include <string>

#include "runtime/graph/job_graph.h"
#include "runtime/transport/control_codec.h"
#include "worker/job_execution.h"

namespace sluice {

/// A parsed, configured and planned job.
struct PreparedJob {
  JobSpec spec;
  Configuration config;
  JobGraph graph;
};

/// Parses the job text (parameters filled), applies configuration precedence
/// (-D > job `config:` > `clusterConfig` > defaults) and plans the graph. No
/// side effects: every job-file error is reported before anything runs.
/// `pluginFiles` (plugin name → local file), when given, is where this process
/// stored the job's uploaded plugins (the job manager's store, a worker's
/// cache); then the job's own plugin paths are never opened.
Result<PreparedJob> prepareJob(const transport::JobDefinition& job, const Configuration& clusterConfig,
                               const std::map<std::string, std::string>* pluginFiles = nullptr);

/// Execution settings that follow from the job's configuration.
ExecutionOptions executionOptionsFor(const PreparedJob& job, const std::string& jobId, uint32_t attempt);

}  // namespace sluice
