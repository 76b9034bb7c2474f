// A real cluster on loopback: a sluice-jobmanager process, worker processes and
// the sluice client, as a user would run them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <set>
#include <thread>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

const char* kGeneratorJob = R"(name: endless
sources:
  - {id: gen, type: generator, count: 100000000, keys: 50, interval_ms: 1}
nodes:
  - {id: pick, from: [gen], filter: "key % 2 = 0", select: {key: key, ts: ts}}
sinks:
  - {id: out, from: [pick], type: discard}
)";

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string config = dir_.file("cluster.yaml");
    writeFile(config, "heartbeat.timeout: 1500ms\nheartbeat.interval: 200ms\n");
    jobManager_ = std::make_unique<ChildProcess>(std::vector<std::string>{binary("sluice-jobmanager"), "--port", "0",
                                                                          "--config", config, "--log-level", "warn"});
    std::string port = jobManager_->waitForFirstLine();
    ASSERT_FALSE(port.empty()) << jobManager_->err();
    address_ = "127.0.0.1:" + port;
  }

  ChildProcess& startWorker(int slots) {
    workers_.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        binary("sluice-worker"), "--jobmanager", address_, "--slots", std::to_string(slots), "--id",
        "worker-" + std::to_string(workers_.size()), "--heartbeat-interval-ms", "200", "--log-level", "warn"}));
    return *workers_.back();
  }

  /// Waits until `count` workers are registered (a job that arrives earlier would wait for slots).
  void waitForWorkers(size_t count) {
    size_t registered = 0;
    for (int i = 0; i < 200 && registered < count; ++i) {
      auto result = client({"workers", "--json"});
      auto json = nlohmann::json::parse(result.out, nullptr, false);
      registered = json.is_array() ? json.size() : 0;
      if (registered < count) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(registered, count);
  }

  ProcessResult client(std::vector<std::string> arguments, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::vector<std::string> argv = {binary("sluice"), "--jobmanager", address_};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return runProcess(argv, timeout);
  }

  nlohmann::json status(const std::string& jobId) {
    auto result = client({"status", jobId, "--json"});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    return nlohmann::json::parse(result.out, nullptr, false);
  }

  std::string waitForState(const std::string& jobId, const std::string& state,
                           std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto json = status(jobId);
      if (json.is_object()) last = json["state"];
      if (last == state) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }

  std::string writeJob(const std::string& text) {
    writeFile(dir_.file("job.yaml"), text);
    return dir_.file("job.yaml");
  }

  std::vector<std::string> nexmark(const std::string& query, const std::string& output) {
    return {std::string(SLUICE_SOURCE_DIR) + "/examples/nexmark/" + query + ".yaml", "--set",
            "events=" + testDataDir() + "/nexmark/events.jsonl", "--set", "output=" + output};
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> jobManager_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::string address_;
};

TEST_F(ClusterTest, RunsNexmarkAcrossTwoWorkersAndReportsStatus) {
  startWorker(2);
  startWorker(2);
  waitForWorkers(2);
  for (const std::string query : {"q5", "q3", "q11"}) {
    std::string output = dir_.file("out-" + query);
    std::vector<std::string> args = {"run", "-p", "4"};
    auto more = nexmark(query, output);
    args.insert(args.end(), more.begin(), more.end());
    auto result = client(args);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(
        compareJsonRows(readLines(testDataDir() + "/nexmark/expected/" + query + ".jsonl"), readCommittedLines(output)),
        "")
        << query;
  }
  auto list = client({"list", "--json"});
  ASSERT_EQ(list.exitCode, 0) << list.err;
  auto jobs = nlohmann::json::parse(list.out);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0]["name"], "nexmark-q5");  // oldest first
  auto job = jobs[0];
  for (const char* field :
       {"id", "name", "state", "submitted_at", "restarts", "restored_from", "checkpoints", "tasks"}) {
    EXPECT_TRUE(job.contains(field)) << field;
  }
  EXPECT_EQ(job["state"], "FINISHED");
  EXPECT_TRUE(job["restored_from"].is_null());
  std::set<std::string> workersUsed;
  for (const auto& task : job["tasks"]) {
    for (const char* field : {"node", "subtask", "worker", "state"}) EXPECT_TRUE(task.contains(field)) << field;
    workersUsed.insert(task["worker"].get<std::string>());
  }
  EXPECT_EQ(workersUsed.size(), 2u) << "subtasks are spread over both workers";
  auto text = client({"status", job["id"]});
  EXPECT_EQ(text.exitCode, 0);
  EXPECT_NE(text.out.find("FINISHED"), std::string::npos);
}

TEST_F(ClusterTest, DetachedRunPrintsJobIdAndCancelStopsIt) {
  startWorker(2);
  waitForWorkers(1);
  auto result = client({"run", "-d", "-D", "sluice.source.rate-limit=1000", writeJob(kGeneratorJob)});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  std::string out = result.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::string jobId = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  ASSERT_EQ(jobId.size(), 32u) << result.out;
  EXPECT_EQ(waitForState(jobId, "RUNNING"), "RUNNING");
  auto cancel = client({"cancel", jobId});
  EXPECT_EQ(cancel.exitCode, 0) << cancel.err;
  EXPECT_EQ(waitForState(jobId, "CANCELED"), "CANCELED");
  auto again = client({"cancel", jobId});
  EXPECT_NE(again.exitCode, 0);
  auto unknown = client({"status", "nosuchjob"});
  EXPECT_NE(unknown.exitCode, 0);
  EXPECT_NE(unknown.err.find("nosuchjob"), std::string::npos);
}

TEST_F(ClusterTest, JobNeedingMoreSlotsThanTheClusterHasFailsWithCounts) {
  startWorker(1);
  waitForWorkers(1);
  auto result = client({"run", "-p", "3", "-D", "slot.request.timeout=500ms", writeJob(kGeneratorJob)});
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("needs 3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("has 1"), std::string::npos) << result.err;
}

TEST_F(ClusterTest, LostWorkerIsDetectedAndTheJobRestartsOnTheRemainingSlots) {
  startWorker(2);
  ChildProcess& doomed = startWorker(2);
  waitForWorkers(2);
  auto submitted =
      client({"run", "-d", "-p", "2", "-D", "sluice.source.rate-limit=2000", "-D", "restart-strategy.type=fixed-delay",
              "-D", "restart-strategy.fixed-delay.delay=100ms", writeJob(kGeneratorJob)});
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = submitted.out.substr(0, 32);
  ASSERT_EQ(waitForState(jobId, "RUNNING"), "RUNNING");
  auto before = status(jobId);
  bool usesDoomed = false;
  for (const auto& task : before["tasks"]) usesDoomed |= task["worker"] == "worker-1";
  ASSERT_TRUE(usesDoomed) << before.dump();
  auto killedAt = std::chrono::steady_clock::now();
  doomed.kill(SIGKILL);
  // Detected by the heartbeat timeout (1.5 s), then restarted on worker-0's two slots.
  nlohmann::json after;
  for (int i = 0; i < 100; ++i) {
    after = status(jobId);
    if (after["restarts"].get<int>() >= 1 && after["state"] == "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto recovered = std::chrono::steady_clock::now() - killedAt;
  EXPECT_EQ(after["state"], "RUNNING") << after.dump();
  EXPECT_GE(after["restarts"].get<int>(), 1);
  EXPECT_LT(recovered, std::chrono::seconds(8));
  for (const auto& task : after["tasks"]) EXPECT_EQ(task["worker"], "worker-0");
  EXPECT_EQ(client({"cancel", jobId}).exitCode, 0);
}

TEST(ClusterClientTest, UnreachableJobManagerGivesAClearErrorNotAHang) {
  auto started = std::chrono::steady_clock::now();
  auto result = runProcess({binary("sluice"), "--jobmanager", "127.0.0.1:1", "list"}, std::chrono::seconds(30));
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("127.0.0.1:1"), std::string::npos) << result.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

TEST(ClusterClientTest, WorkerOfAnotherVersionOrBadAddressIsRefusedClearly) {
  auto result = runProcess({binary("sluice-worker"), "--jobmanager", "nohostport"}, std::chrono::seconds(30));
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("nohostport"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace sluice::testing
