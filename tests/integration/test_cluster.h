// TestCluster: a real job manager, worker processes and client invocations for
// the cluster robustness tests, optionally each behind a command prefix such as
// `ip netns exec NS` so that processes run on different (virtual) hosts.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {

/// Starts and drives one cluster. Not thread-safe; the processes it started are
/// killed when it is destroyed.
class TestCluster {
 public:
  /// `clusterConfig` is the text of the job manager's `--config` file.
  explicit TestCluster(std::string clusterConfig = "heartbeat.timeout: 1500ms\nheartbeat.interval: 200ms\n")
      : clusterConfig_(std::move(clusterConfig)) {}

  /// Starts sluice-jobmanager on `bindHost` with a free port, behind `prefix`
  /// (which is also used for every client call). Returns false (with a gtest
  /// failure) when it does not come up.
  bool startJobManager(const std::string& bindHost = "127.0.0.1", std::vector<std::string> prefix = {}) {
    prefix_ = std::move(prefix);
    std::string config = dir_.file("cluster.yaml");
    writeFile(config, clusterConfig_);
    std::vector<std::string> argv = prefix_;
    for (const std::string& arg :
         {binary("sluice-jobmanager"), std::string("--bind"), bindHost, std::string("--port"), std::string("0"),
          std::string("--config"), config, std::string("--log-level"), std::string("warn")}) {
      argv.push_back(arg);
    }
    jobManager_ = std::make_unique<ChildProcess>(argv);
    std::string port = jobManager_->waitForFirstLine();
    EXPECT_FALSE(port.empty()) << "the job manager did not start: " << jobManager_->err();
    if (port.empty()) return false;
    address_ = bindHost + ":" + port;
    return true;
  }

  /// Starts sluice-worker `id` with `slots` slots, heartbeats every 200 ms.
  ChildProcess& startWorker(const std::string& id, int slots, std::vector<std::string> prefix = {},
                            const std::vector<std::string>& extraArguments = {}) {
    std::vector<std::string> argv = std::move(prefix);
    for (const std::string& arg :
         {binary("sluice-worker"), std::string("--jobmanager"), address_, std::string("--slots"), std::to_string(slots),
          std::string("--id"), id, std::string("--heartbeat-interval-ms"), std::string("200"),
          std::string("--log-level"), std::string("warn")}) {
      argv.push_back(arg);
    }
    argv.insert(argv.end(), extraArguments.begin(), extraArguments.end());
    workers_.push_back(std::make_unique<ChildProcess>(argv));
    return *workers_.back();
  }

  /// Runs the client against this cluster.
  ProcessResult client(const std::vector<std::string>& arguments,
                       std::chrono::seconds timeout = std::chrono::seconds(60)) const {
    std::vector<std::string> argv = prefix_;
    argv.push_back(binary("sluice"));
    argv.push_back("--jobmanager");
    argv.push_back(address_);
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return runProcess(argv, timeout);
  }

  /// `sluice workers --json`, or null when the call fails.
  nlohmann::json workers() const {
    auto result = client({"workers", "--json"});
    if (result.exitCode != 0) return nullptr;
    return nlohmann::json::parse(result.out, nullptr, false);
  }

  /// Waits until `count` workers are registered; returns how many there are.
  size_t waitForWorkers(size_t count, std::chrono::seconds timeout = std::chrono::seconds(15)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t registered = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      auto json = workers();
      registered = json.is_array() ? json.size() : 0;
      if (registered >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return registered;
  }

  /// `sluice status ID --json`, or null when the call fails.
  nlohmann::json status(const std::string& jobId) const {
    auto result = client({"status", jobId, "--json"});
    if (result.exitCode != 0) return nullptr;
    return nlohmann::json::parse(result.out, nullptr, false);
  }

  /// Polls the job until its state is one of `states`; returns the last status.
  nlohmann::json waitForState(const std::string& jobId, const std::set<std::string>& states,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20),
                              std::chrono::milliseconds poll = std::chrono::milliseconds(100)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = status(jobId);
      if (last.is_object() && states.count(last.value("state", "")) > 0) break;
      std::this_thread::sleep_for(poll);
    }
    return last;
  }

  /// The worker ids that run at least one task of the job `status` describes.
  static std::set<std::string> workersOf(const nlohmann::json& status) {
    std::set<std::string> used;
    if (!status.is_object() || !status.contains("tasks")) return used;
    for (const auto& task : status["tasks"]) used.insert(task.value("worker", ""));
    return used;
  }

  /// The job id that `sluice run -d` printed (its last line).
  static std::string jobIdFrom(std::string output) {
    while (!output.empty() && output.back() == '\n') output.pop_back();
    auto newline = output.rfind('\n');
    return newline == std::string::npos ? output : output.substr(newline + 1);
  }

  /// Writes `text` as a job file in the cluster's directory and returns its path.
  std::string writeJob(const std::string& name, const std::string& text) const {
    writeFile(dir_.file(name), text);
    return dir_.file(name);
  }

  /// Arguments for `sluice run` of a Nexmark example query on the test events.
  static std::vector<std::string> nexmarkArguments(const std::string& query, const std::string& output) {
    return {std::string(SLUICE_SOURCE_DIR) + "/examples/nexmark/" + query + ".yaml", "--set",
            "events=" + testDataDir() + "/nexmark/events.jsonl", "--set", "output=" + output};
  }

  const std::string& address() const { return address_; }
  const TempDir& dir() const { return dir_; }
  ChildProcess* jobManager() const { return jobManager_.get(); }
  const std::vector<std::unique_ptr<ChildProcess>>& workerProcesses() const { return workers_; }

 private:
  std::string clusterConfig_;
  TempDir dir_;
  std::vector<std::string> prefix_;
  std::unique_ptr<ChildProcess> jobManager_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::string address_;
};

/// The resident set size of process `pid` in bytes (VmRSS), or -1 when unknown.
inline int64_t residentBytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kilobytes = -1;
    fields >> kilobytes;
    return kilobytes < 0 ? -1 : kilobytes * 1024;
  }
  return -1;
}

}  // namespace sluice::testing
