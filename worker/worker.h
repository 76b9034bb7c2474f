// Worker: a task executor process's core. Registers its slots and data endpoint
// with the job manager, heartbeats, runs the tasks it is given and reports
// their states; cleans up after cancel.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "runtime/job/configuration.h"
#include "runtime/transport/control_channel.h"
#include "runtime/transport/data_plane.h"
#include "worker/job_execution.h"

namespace sluice {

struct WorkerOptions {
  std::string jobManager = "127.0.0.1:6123";  // HOST:PORT
  int slots = 2;
  std::string dataDirectory;  // local state; a temp dir when empty
  std::string bindAddress = "127.0.0.1";
  int port = 0;
  std::string advertiseHost;  // default: bindAddress
  std::string workerId;       // generated when empty
  std::chrono::milliseconds heartbeatInterval{1000};
};

/// Runs until stop(). Control messages are handled on a worker thread of its
/// own (never on the socket's I/O thread), so deploying a large job does not
/// delay heartbeats. Thread-safe.
class Worker {
 public:
  static Result<std::unique_ptr<Worker>> start(WorkerOptions options);
  ~Worker();

  const std::string& workerId() const { return options_.workerId; }
  const std::string& dataEndpoint() const { return dataPlane_->endpoint(); }
  /// Blocks until the job manager accepted or refused the registration.
  Status waitForRegistration(std::chrono::milliseconds timeout);
  /// Set when the job manager refused this worker (e.g. another version).
  Status refusal() const;
  /// Cancels every task, says goodbye to the job manager and stops.
  void stop();
  /// Waits until stop() or a refusal.
  void waitUntilStopped();

 private:
  struct RunningJob {
    std::string jobId;
    uint32_t attempt = 0;
    std::unique_ptr<JobExecution> execution;
    // Backpressure of each task at the last report: (blocked ns, when).
    std::map<std::pair<std::string, int>, std::pair<int64_t, std::chrono::steady_clock::time_point>> lastBlocked;
  };

  Worker() = default;
  void onMessage(transport::ControlMessage message);  // control I/O thread
  void commandLoop();
  void handle(transport::ControlMessage& message);  // command thread
  void deploy(const transport::DeployTasks& deploy);
  void cancel(const std::string& jobId, uint32_t attempt);
  void removeStateDirectory(const std::string& jobId, uint32_t attempt);
  /// Sends the live counters, backpressure and watermarks of every running task.
  void reportMetrics();
  /// The local file of the plugin with content hash `hash`: from the cache
  /// under the data directory, else fetched from the job manager (once).
  Result<std::string> pluginFile(const std::string& hash);
  void reportTask(const std::string& jobId, uint32_t attempt, const std::string& node, int subtask, TaskState state,
                  const Status& status, int64_t recordsIn, int64_t recordsOut);

  WorkerOptions options_;
  std::unique_ptr<transport::DataPlane> dataPlane_;
  std::unique_ptr<transport::ControlConnection> control_;
  bool ownsDataDirectory_ = false;
  std::atomic<bool> registered_{false};
  std::chrono::steady_clock::time_point lastRegisterAttempt_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<transport::ControlMessage> commands_;
  bool stopping_ = false;
  bool registrationAnswered_ = false;
  Status refusal_;
  std::map<std::string, RunningJob> jobs_;                                // command thread only
  uint64_t nextFetchId_ = 1;                                              // command thread only
  std::chrono::steady_clock::time_point lastMetrics_;                     // command thread only
  std::map<uint64_t, std::optional<transport::ControlMessage>> fetches_;  // guarded by mutex_
  std::thread commandThread_;
};

}  // namespace sluice
