#include "jobmanager/local_cluster.h"

#include <random>

#include "operators/builtin_operators.h"
#include "runtime/base/logging.h"

namespace sluice {

std::string newJobId() {
  static thread_local std::mt19937_64 generator(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) id += kHex[generator() & 15];
  return id;
}

Result<PreparedJob> prepareJob(const JobSubmission& submission, const Configuration& clusterConfig) {
  registerBuiltinOperators();
  SLUICE_ASSIGN_OR_RETURN(JobSpec spec, parseJobSpec(submission.jobText, submission.parameters,
                                                     submission.jobPath.empty() ? "job" : submission.jobPath));
  for (const auto& unused : spec.unusedParameters) {
    logger("client")->warn("parameter '{}' is set with --set but the job does not use it", unused);
  }
  SLUICE_ASSIGN_OR_RETURN(Configuration config,
                          effectiveConfiguration(clusterConfig, spec, submission.dynamicProperties));
  if (submission.parallelism && *submission.parallelism <= 0) {
    return Status::invalidArgument("parallelism (-p) must be a positive integer, got " +
                                   std::to_string(*submission.parallelism));
  }
  PlanOptions options;
  options.parallelism = submission.parallelism;
  options.workingDirectory = submission.workingDirectory;
  SLUICE_ASSIGN_OR_RETURN(JobGraph graph, JobGraph::build(spec, config, options));
  return PreparedJob{std::move(spec), std::move(config), std::move(graph)};
}

LocalCluster::LocalCluster(Configuration clusterConfig) : clusterConfig_(std::move(clusterConfig)) {}

Result<JobOutcome> LocalCluster::runJob(const JobSubmission& submission) {
  SLUICE_ASSIGN_OR_RETURN(PreparedJob prepared, prepareJob(submission, clusterConfig_));
  for (const GraphNode& node : prepared.graph.nodes()) {
    if (node.planned.prepare) SLUICE_RETURN_NOT_OK(node.planned.prepare(/*resuming=*/false));
  }
  JobOutcome outcome;
  outcome.jobId = newJobId();
  outcome.name = prepared.spec.name;
  outcome.tasks = prepared.graph.numTasks();
  logger("jobmanager")->info("job {} ({}) planned as {} tasks:\n{}", outcome.jobId, outcome.name, outcome.tasks,
                             prepared.graph.describe());

  ExecutionOptions options;
  options.jobId = outcome.jobId;
  options.bufferTimeout = prepared.config.getDuration("execution.buffer-timeout").value_or(std::chrono::milliseconds(5));
  SLUICE_ASSIGN_OR_RETURN(auto execution, JobExecution::create(prepared.graph, options));
  auto started = std::chrono::steady_clock::now();
  execution->start();
  outcome.status = execution->wait();
  outcome.duration = std::chrono::steady_clock::now() - started;
  outcome.counters = execution->counters();
  ++nextJob_;
  return outcome;
}

}  // namespace sluice
