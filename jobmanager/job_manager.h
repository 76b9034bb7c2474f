// JobManager: accepts workers and clients on one ZeroMQ endpoint, keeps the
// registry of workers and slots, schedules jobs onto slots, tracks task and job
// states, detects lost workers and restarts failed jobs.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jobmanager/checkpoint_coordinator.h"
#include "runtime/job/configuration.h"
#include "runtime/transport/control_channel.h"
#include "worker/job_preparation.h"

namespace sluice {

struct JobManagerOptions {
  std::string bindAddress = "127.0.0.1";
  int port = 6123;  // 0 picks a free port
  Configuration clusterConfig;
  /// Where uploaded plugins are stored (under `plugins/`, named by content
  /// hash); a temporary directory, removed at stop, when empty.
  std::string dataDirectory;
};

/// All state lives on the control endpoint's one I/O thread (message handler and
/// periodic tick), so there is no locking beyond start/stop. Jobs move through
/// CREATED → RUNNING → (RESTARTING → RUNNING)* → FINISHED | FAILED | CANCELED.
///
/// Slots: like Flink's slot sharing, one slot hosts one subtask of each chain,
/// so a job needs as many slots as its largest parallelism; slot i of a job is
/// placed on the worker with the most free slots, which spreads subtasks evenly.
class JobManager {
 public:
  static Result<std::unique_ptr<JobManager>> start(JobManagerOptions options);
  ~JobManager();

  int port() const { return server_->port(); }
  void stop();

 private:
  struct WorkerRecord {
    std::string id;
    std::string peer;  // control socket identity
    std::string dataEndpoint;
    int slots = 0;
    int usedSlots = 0;
    std::chrono::steady_clock::time_point lastHeartbeat;
  };
  struct TaskRecord {
    std::string head;                  // chain head node id
    std::vector<std::string> members;  // node ids of the chain
    int subtask = 0;
    std::string worker;
    std::string state = "CREATED";
    int64_t recordsIn = 0;
    int64_t recordsOut = 0;
    bool isSource = false;
    bool hasSink = false;
    double backpressure = 0;                    // share of the last report interval blocked on output
    std::map<std::string, int64_t> watermarks;  // member node → last emitted watermark
  };
  struct JobRecord {
    std::string id;
    std::string name;
    transport::JobDefinition definition;
    std::string state = "CREATED";
    int64_t submittedAtMs = 0;
    int64_t finishedAtMs = 0;
    uint32_t attempt = 0;
    int restarts = 0;
    std::string failure;
    int slotsNeeded = 1;
    std::map<std::string, int> parallelism;  // node id → parallelism
    std::vector<TaskRecord> tasks;
    std::map<std::string, int> slotsByWorker;  // slots this attempt holds
    std::chrono::steady_clock::time_point waitingSince;
    std::chrono::steady_clock::time_point restartAt;
    bool waitingForSlots = false;
    std::string restartStrategy;
    int maxRestarts = 0;
    std::chrono::milliseconds restartDelay{0};
    std::chrono::milliseconds maxBackoff{0};
    std::chrono::milliseconds slotTimeout{60000};
    std::shared_ptr<CheckpointCoordinator> checkpoints;
    std::string savepointDirectory;  // state.savepoints.dir
    std::string initialRestore;      // -s: `_metadata` path the first attempt restores from
    int64_t initialRestoreId = -1;
    struct SavepointWaiter {
      std::string peer;
      uint64_t requestId = 0;
      std::string directory;
      bool stop = false;
      bool drain = false;         // stop --drain: the job's final checkpoint becomes the savepoint
      int64_t checkpointId = -1;  // -1 until triggered
    };
    std::optional<SavepointWaiter> savepoint;
  };

  JobManager() = default;
  void onMessage(const std::string& peer, transport::ControlMessage message);
  void tick();
  void reply(const std::string& peer, uint64_t requestId, bool ok, const std::string& error,
             const std::string& payload = "");
  void submit(const std::string& peer, uint64_t requestId, const transport::SubmitJob& submit);
  bool trySchedule(JobRecord& job);
  void onTaskState(const transport::TaskStateUpdate& update);
  void failAttempt(JobRecord& job, const std::string& reason);
  void endJob(JobRecord& job, const std::string& state, const std::string& failure = "");
  void cancelAttempt(JobRecord& job);
  void releaseSlots(JobRecord& job);
  void workerLost(const std::string& workerId, const std::string& why, bool expected = false);
  void tickCheckpoints(JobRecord& job);
  void sendToWorkers(const JobRecord& job, const transport::ControlBody& body);
  std::vector<CoordinatedTask> coordinatedTasks(const JobRecord& job) const;
  void onAcknowledge(const transport::AcknowledgeCheckpoint& ack);
  void onDecline(const transport::DeclineCheckpoint& decline);
  void onSavepointRequest(const std::string& peer, uint64_t requestId, const transport::SavepointRequest& request);
  void failSavepoint(JobRecord& job, const std::string& reason);
  /// Stores the uploaded plugins by content hash; returns plugin name → stored file.
  Result<std::map<std::string, std::string>> storePlugins(const transport::SubmitJob& submit,
                                                          transport::JobDefinition& definition);
  void onFetchPlugin(const std::string& peer, uint64_t requestId, const std::string& hash);
  Status setUpCheckpointing(JobRecord& job, const Configuration& config, const JobGraph& graph);
  std::string statusJson(const JobRecord& job) const;

  JobManagerOptions options_;
  std::string pluginDirectory_;
  bool ownsDataDirectory_ = false;
  std::unique_ptr<transport::ControlServer> server_;
  std::chrono::milliseconds heartbeatTimeout_{3000};
  std::map<std::string, WorkerRecord> workers_;
  std::map<std::string, JobRecord> jobs_;
  std::vector<std::string> jobOrder_;  // submission order
};

}  // namespace sluice
