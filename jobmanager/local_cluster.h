// LocalCluster: an embedded job manager and workers in one process, for
// `sluice run --local`, tests and demos. The same job manager and worker code
// as a distributed cluster, talking over ZeroMQ on 127.0.0.1.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jobmanager/job_manager.h"
#include "worker/worker.h"

namespace sluice {

struct LocalClusterOptions {
  int workers = 1;
  int slotsPerWorker = 1;
  Configuration clusterConfig;
};

/// Starts a job manager on a free loopback port and `workers` workers that
/// register with it; stop() (or the destructor) shuts everything down.
class LocalCluster {
 public:
  static Result<std::unique_ptr<LocalCluster>> start(LocalClusterOptions options);
  ~LocalCluster();

  /// "127.0.0.1:PORT" of the embedded job manager.
  std::string jobManagerAddress() const;
  void stop();

 private:
  LocalCluster() = default;
  std::unique_ptr<JobManager> jobManager_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace sluice
