// SerialExecutor: one background thread that runs submitted jobs one at a
// time, in submission order (used for asynchronous checkpoint uploads).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sluice {

/// Runs jobs on its own thread in FIFO order. Thread-safe. The destructor
/// (or shutdown) runs the jobs already queued, then joins the thread; jobs
/// submitted after shutdown run on the caller's thread, so none is lost.
class SerialExecutor {
 public:
  explicit SerialExecutor(std::string name);
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void submit(std::function<void()> job);
  /// Blocks until every job submitted so far has run.
  void drain();
  /// Runs the queued jobs and stops the thread. Idempotent.
  void shutdown();

 private:
  void loop();

  const std::string name_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  bool running_ = false;                    // a job is running; guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::thread thread_;
};

}  // namespace sluice
