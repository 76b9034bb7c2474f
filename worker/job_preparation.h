// Turning a submitted job definition into a planned JobGraph, identically on the
// job manager (to validate and schedule) and on every worker (to run its tasks).
#pragma once

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
Result<PreparedJob> prepareJob(const transport::JobDefinition& job, const Configuration& clusterConfig);

/// Execution settings that follow from the job's configuration.
ExecutionOptions executionOptionsFor(const PreparedJob& job, const std::string& jobId, uint32_t attempt);

}  // namespace sluice
