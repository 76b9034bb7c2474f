#include "worker/job_preparation.h"

#include "operators/builtin_operators.h"
#include "operators/join/join_operators.h"
#include "operators/over/over_operators.h"
#include "operators/payments/payments_operators.h"
#include "operators/plugin/plugin_loader.h"
#include "operators/plugin/plugin_operators.h"
#include "operators/window/window_operators.h"
#include "runtime/base/logging.h"

namespace sluice {

Result<PreparedJob> prepareJob(const transport::JobDefinition& job, const Configuration& clusterConfig,
                               const std::map<std::string, std::string>* pluginFiles) {
  registerBuiltinOperators();
  registerWindowOperators();
  registerJoinOperators();
  registerOverOperators();
  registerPluginOperators();
  registerPaymentsOperators();
  SLUICE_ASSIGN_OR_RETURN(JobSpec spec,
                          parseJobSpec(job.jobText, job.parameters, job.jobPath.empty() ? "job" : job.jobPath));
  // Plugins register operators and aggregates, so they load before anything is planned.
  if (pluginFiles != nullptr) {
    SLUICE_RETURN_NOT_OK(loadJobPlugins(spec, job.workingDirectory, *pluginFiles).status());
  } else {
    SLUICE_RETURN_NOT_OK(loadJobPlugins(spec, job.workingDirectory).status());
  }
  SLUICE_ASSIGN_OR_RETURN(Configuration config, effectiveConfiguration(clusterConfig, spec, job.properties));
  if (job.parallelism < 0) {
    return Status::invalidArgument("parallelism (-p) must be a positive integer, got " +
                                   std::to_string(job.parallelism));
  }
  PlanOptions options;
  if (job.parallelism > 0) options.parallelism = job.parallelism;
  options.workingDirectory = job.workingDirectory;
  options.pluginFiles = pluginFiles;
  SLUICE_ASSIGN_OR_RETURN(JobGraph graph, JobGraph::build(spec, config, options));
  return PreparedJob{std::move(spec), std::move(config), std::move(graph)};
}

ExecutionOptions executionOptionsFor(const PreparedJob& job, const std::string& jobId, uint32_t attempt) {
  ExecutionOptions options;
  options.jobId = jobId;
  options.attempt = static_cast<int>(attempt);
  options.bufferTimeout = job.config.getDuration("execution.buffer-timeout").value_or(std::chrono::milliseconds(5));
  options.stateBackendType = job.config.get("state.backend.type").value_or("rocksdb");
  return options;
}

}  // namespace sluice
