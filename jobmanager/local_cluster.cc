#include "jobmanager/local_cluster.h"

namespace sluice {

Result<std::unique_ptr<LocalCluster>> LocalCluster::start(LocalClusterOptions options) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  JobManagerOptions managerOptions;
  managerOptions.port = 0;
  managerOptions.clusterConfig = options.clusterConfig;
  SLUICE_ASSIGN_OR_RETURN(cluster->jobManager_, JobManager::start(managerOptions));
  for (int i = 0; i < options.workers; ++i) {
    WorkerOptions workerOptions;
    workerOptions.jobManager = cluster->jobManagerAddress();
    workerOptions.slots = options.slotsPerWorker;
    workerOptions.workerId = "local-worker-" + std::to_string(i);
    workerOptions.heartbeatInterval =
        options.clusterConfig.getDuration("heartbeat.interval").value_or(std::chrono::milliseconds(1000));
    SLUICE_ASSIGN_OR_RETURN(auto worker, Worker::start(workerOptions));
    SLUICE_RETURN_NOT_OK(worker->waitForRegistration(std::chrono::seconds(10)));
    cluster->workers_.push_back(std::move(worker));
  }
  return cluster;
}

LocalCluster::~LocalCluster() { stop(); }

std::string LocalCluster::jobManagerAddress() const { return "127.0.0.1:" + std::to_string(jobManager_->port()); }

void LocalCluster::stop() {
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  if (jobManager_) jobManager_->stop();
}

}  // namespace sluice
