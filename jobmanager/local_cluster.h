// LocalCluster: an embedded job manager and worker in one process, for
// `sluice run --local`, tests and demos. It plans jobs with the same graph code
// and runs them with the same task runtime as a distributed cluster.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "runtime/graph/job_graph.h"
#include "worker/job_execution.h"

namespace sluice {

/// A job as the client hands it over: the job file's text plus everything given
/// on the command line.
struct JobSubmission {
  std::string jobText;
  std::string jobPath;  // for messages
  std::map<std::string, std::string> parameters;         // --set
  std::map<std::string, std::string> dynamicProperties;  // -D
  std::optional<int> parallelism;                        // -p
  std::string workingDirectory;
};

/// What a finished local job reports.
struct JobOutcome {
  std::string jobId;
  std::string name;
  Status status;
  ExecutionCounters counters;
  std::chrono::duration<double> duration{0};
  int tasks = 0;
};

/// Parses, validates and plans a submission (no side effects), so callers can
/// report every job-file error before anything runs.
struct PreparedJob {
  JobSpec spec;
  Configuration config;
  JobGraph graph;
};
Result<PreparedJob> prepareJob(const JobSubmission& submission, const Configuration& clusterConfig);

/// Runs jobs to completion inside this process. Thread-safe.
class LocalCluster {
 public:
  explicit LocalCluster(Configuration clusterConfig = {});

  /// Plans the job, prepares its sinks, runs it and waits for the end.
  /// Errors in the job file come back before anything runs.
  Result<JobOutcome> runJob(const JobSubmission& submission);

 private:
  Configuration clusterConfig_;
  int nextJob_ = 0;
};

/// A fresh job id: 32 lowercase hex digits, as Flink's.
std::string newJobId();

}  // namespace sluice
