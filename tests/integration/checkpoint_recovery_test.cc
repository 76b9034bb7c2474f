// Exactly-once recovery with real processes: a job manager, worker processes and
// the client; workers are killed mid-job and the committed output must equal the
// expected rows exactly. Also savepoints with rescaling and damaged checkpoints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

/// A cluster whose job manager keeps checkpoints under a temp directory.
class RecoveryCluster : public TestCluster {
 public:
  explicit RecoveryCluster(const std::string& checkpointDir)
      : TestCluster("heartbeat.timeout: 1500ms\nheartbeat.interval: 200ms\nstate.checkpoints.dir: " + checkpointDir +
                    "\n") {}
};

bool hasCommittedPart(const std::string& directory) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.path().filename().string().rfind("part-", 0) == 0) return true;
  }
  return false;
}

/// Arguments of a checkpointed, rate-limited Nexmark run: 20,000 events over 4
/// source subtasks at 400 records/s each take about 12 s.
std::vector<std::string> checkpointedRun(const std::string& query, const std::string& output, int parallelism,
                                         int rate = 400) {
  std::vector<std::string> arguments = {"run", "-d",
                                        "-p",  std::to_string(parallelism),
                                        "-D",  "execution.checkpointing.interval=200ms",
                                        "-D",  "sluice.source.rate-limit=" + std::to_string(rate),
                                        "-D",  "restart-strategy.type=fixed-delay",
                                        "-D",  "restart-strategy.fixed-delay.delay=200ms",
                                        "-D",  "restart-strategy.fixed-delay.attempts=5"};
  for (const auto& argument : TestCluster::nexmarkArguments(query, output)) arguments.push_back(argument);
  return arguments;
}

class CheckpointRecoveryTest : public ::testing::Test {
 protected:
  std::string checkpointDir() const { return scratch_.file("checkpoints"); }
  std::string output() const { return scratch_.file("out"); }

  /// Kills a worker that runs tasks of the job once committed output exists
  /// (plus `extraDelay`), starts a replacement, and checks the final output.
  void killAndRecover(const std::string& query, std::chrono::milliseconds extraDelay) {
    RecoveryCluster cluster(checkpointDir());
    ASSERT_TRUE(cluster.startJobManager());
    cluster.startWorker("worker-a", 2);
    ChildProcess& doomed = cluster.startWorker("worker-b", 2);
    ASSERT_EQ(cluster.waitForWorkers(2), 2u);
    auto submitted = cluster.client(checkpointedRun(query, output(), 4));
    ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
    std::string jobId = TestCluster::jobIdFrom(submitted.out);
    auto running = cluster.waitForState(jobId, {"RUNNING"});
    ASSERT_EQ(running.value("state", ""), "RUNNING") << running.dump();
    ASSERT_EQ(TestCluster::workersOf(running).count("worker-b"), 1u) << running.dump();

    // Committed output and a completed checkpoint, or — for queries whose rows all come at the end
    // of the stream (q11's sessions) — a completed checkpoint half way through the input.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool ready = false;
    while (!ready && std::chrono::steady_clock::now() < deadline) {
      auto progress = cluster.status(jobId);
      bool checkpointed = progress.is_object() && progress["checkpoints"].value("completed", 0) >= 1;
      ready = checkpointed &&
              (hasCommittedPart(output()) || (progress.is_object() && progress.value("records_in", 0) >= 10000));
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(ready) << "no completed checkpoint and committed output (or half the input) before the kill";
    // Wait `extraDelay`, but kill while at least a tenth of the input is still unread.
    auto killAt = std::chrono::steady_clock::now() + extraDelay;
    while (std::chrono::steady_clock::now() < killAt) {
      auto progress = cluster.status(jobId);
      if (progress.is_object() && progress.value("records_in", int64_t{0}) >= 18000) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto beforeKill = cluster.status(jobId);
    ASSERT_EQ(beforeKill.value("state", ""), "RUNNING") << "the job ended before the kill; raise the rate limit's "
                                                           "duration: "
                                                        << beforeKill.dump();
    doomed.kill(SIGKILL);
    cluster.startWorker("worker-c", 2);

    auto finished = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"}, std::chrono::seconds(120));
    ASSERT_EQ(finished.value("state", ""), "FINISHED") << finished.dump();
    EXPECT_GE(finished["restarts"].get<int>(), 1);
    ASSERT_TRUE(finished["restored_from"].is_number()) << finished.dump();
    EXPECT_GE(finished["restored_from"].get<int64_t>(), 1);
    EXPECT_GE(finished["checkpoints"]["restores"].get<int>(), 1);
    EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/" + query + ".jsonl"),
                              readCommittedLines(output())),
              "")
        << query;
  }

  TempDir scratch_;
};

#if !defined(SLUICE_RANDOM_KILLS)
TEST_F(CheckpointRecoveryTest, WorkerKilledMidJobRecoversExactlyOnceQ5) {
  killAndRecover("q5", std::chrono::milliseconds(500));
}

TEST_F(CheckpointRecoveryTest, BoundedJobEndsWithAFinalCheckpointThatCommitsEverything) {
  RecoveryCluster cluster(checkpointDir());
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  std::vector<std::string> arguments = {"run", "-p", "2", "-D", "execution.checkpointing.interval=100ms"};
  for (const auto& argument : TestCluster::nexmarkArguments("q3", output())) arguments.push_back(argument);
  auto result = cluster.client(arguments, std::chrono::seconds(120));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  std::string jobId = TestCluster::jobIdFrom(result.out);
  auto status = cluster.status(jobId);
  EXPECT_GE(status["checkpoints"]["completed"].get<int>(), 1) << status.dump();
  EXPECT_TRUE(status["restored_from"].is_null());
  EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q3.jsonl"), readCommittedLines(output())), "");
  // Only committed files: nothing hidden is left behind for a reader to trip over.
  for (const auto& entry : fs::directory_iterator(output())) {
    EXPECT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
  }
  // The retained checkpoint is complete and its history entry says so.
  auto history = status["checkpoints"]["history"];
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back()["status"], "COMPLETED");
  EXPECT_TRUE(fs::exists(fs::path(checkpointDir()) / jobId /
                         ("chk-" + std::to_string(status["checkpoints"]["latest"].get<int64_t>())) / "_metadata"));
}

TEST_F(CheckpointRecoveryTest, SavepointAtParallelismTwoResumesAtFourAndAtOne) {
  for (int resumeParallelism : {4, 1}) {
    SCOPED_TRACE("resume at -p " + std::to_string(resumeParallelism));
    std::string out = scratch_.file("out-p" + std::to_string(resumeParallelism));
    RecoveryCluster cluster(checkpointDir());
    ASSERT_TRUE(cluster.startJobManager());
    cluster.startWorker("worker-a", 2);
    cluster.startWorker("worker-b", 2);
    ASSERT_EQ(cluster.waitForWorkers(2), 2u);
    auto submitted = cluster.client(checkpointedRun("q5", out, 2, 1000));
    ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
    std::string jobId = TestCluster::jobIdFrom(submitted.out);
    ASSERT_EQ(cluster.waitForState(jobId, {"RUNNING"}).value("state", ""), "RUNNING");
    std::this_thread::sleep_for(std::chrono::seconds(3));
    auto stopped = cluster.client({"stop", jobId, "--savepoint", scratch_.file("savepoints")});
    ASSERT_EQ(stopped.exitCode, 0) << stopped.err;
    std::string savepoint = TestCluster::jobIdFrom(stopped.out);
    ASSERT_TRUE(fs::exists(fs::path(savepoint) / "_metadata")) << savepoint;
    auto ended = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"});
    EXPECT_EQ(ended.value("state", ""), "FINISHED") << ended.dump();

    std::vector<std::string> resume = {"run",     "-p", std::to_string(resumeParallelism),       "-s",
                                       savepoint, "-D", "execution.checkpointing.interval=200ms"};
    for (const auto& argument : TestCluster::nexmarkArguments("q5", out)) resume.push_back(argument);
    auto resumed = cluster.client(resume, std::chrono::seconds(120));
    ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
    auto status = cluster.status(TestCluster::jobIdFrom(resumed.out));
    EXPECT_TRUE(status["restored_from"].is_number()) << status.dump();
    EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q5.jsonl"), readCommittedLines(out)), "");
  }
}

// `stop --drain`: the sources end their input where they are, every event-time
// window fires, and the job's final checkpoint becomes the savepoint.
TEST_F(CheckpointRecoveryTest, StopWithDrainFiresEveryWindowAndSavesTheFinalState) {
  RecoveryCluster cluster(checkpointDir());
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  // 2 readers × 1000 rows/s of 20,000 rows: about 10 s unless drained; ts = id ms, so 1 s windows stay open.
  std::string job = scratch_.file("drain.yaml");
  writeFile(job, R"yaml(name: drain
sources:
  - {id: gen, type: generator, count: 20000, keys: 7, interval_ms: 1, parallelism: 2}
nodes:
  - {id: totals, from: [gen], type: window, key_by: key, window: {tumble: 1s},
     aggregate: {n: "count()", ids: "sum(id)"}}
sinks:
  - {id: out, from: [totals], type: file, format: jsonl, path: ${output}}
)yaml");
  auto submitted = cluster.client({"run", "-d", "-p", "2", "-D", "execution.checkpointing.interval=200ms", "-D",
                                   "sluice.source.rate-limit=1000", job, "--set", "output=" + output()});
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  ASSERT_EQ(cluster.waitForState(jobId, {"RUNNING"}).value("state", ""), "RUNNING");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto stopped = cluster.client({"stop", jobId, "--savepoint", scratch_.file("savepoints"), "--drain"});
  ASSERT_EQ(stopped.exitCode, 0) << stopped.err;
  std::string savepoint = TestCluster::jobIdFrom(stopped.out);
  ASSERT_TRUE(fs::exists(fs::path(savepoint) / "_metadata")) << savepoint;
  auto ended = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"});
  ASSERT_EQ(ended.value("state", ""), "FINISHED") << ended.dump();

  // What each reader read: ids [split * 10000, split * 10000 + read).
  int64_t expectedRows = 0;
  int64_t expectedIdSum = 0;
  for (const auto& task : ended["tasks"]) {
    if (task["node"] != "gen") continue;
    int64_t read = task["records_in"].get<int64_t>();
    int64_t first = task["subtask"].get<int64_t>() * 10000;
    EXPECT_LT(read, 10000) << "the reader ran to its end before the drain: " << ended.dump();
    expectedRows += read;
    expectedIdSum += read * first + read * (read - 1) / 2;
  }
  ASSERT_GT(expectedRows, 0) << ended.dump();
  // Every row read is in exactly one fired window (the open ones fired at the drain), each window once.
  int64_t rows = 0;
  int64_t idSum = 0;
  std::set<std::pair<int64_t, int64_t>> windows;
  for (const std::string& line : readCommittedLines(output())) {
    auto row = nlohmann::json::parse(line);
    rows += row["n"].get<int64_t>();
    idSum += row["ids"].get<int64_t>();
    EXPECT_TRUE(windows.emplace(row["key"].get<int64_t>(), row["window_start"].get<int64_t>()).second) << line;
  }
  EXPECT_EQ(rows, expectedRows);
  EXPECT_EQ(idSum, expectedIdSum);

  // The savepoint holds the final state: every task had ended.
  auto metadata = nlohmann::json::parse(readFile((fs::path(savepoint) / "_metadata").string()));
  ASSERT_FALSE(metadata["tasks"].empty());
  for (const auto& task : metadata["tasks"]) EXPECT_TRUE(task.value("finished", false)) << task.dump();

  // --drain belongs to stop; a savepoint of a finished job is refused with the job's state.
  auto again = cluster.client({"stop", jobId, "--savepoint", scratch_.file("savepoints"), "--drain"});
  EXPECT_NE(again.exitCode, 0);
  EXPECT_NE(again.err.find("FINISHED"), std::string::npos) << again.err;
}

// The job manager's control thread blocked for 4 s while it writes a checkpoint's metadata (as an
// fsync on a busy disk does) must not declare the workers lost: their heartbeats wait in its queue
// and are read before the next liveness check.
TEST_F(CheckpointRecoveryTest, JobManagerStalledOnItsDiskDoesNotDeclareLiveWorkersLost) {
  RecoveryCluster cluster(checkpointDir());  // heartbeat timeout 1.5 s
  ASSERT_TRUE(
      cluster.startJobManager("127.0.0.1", {"/usr/bin/env", "SLUICE_FAULT_INJECTION=after-metadata-write:stall:1"}));
  cluster.startWorker("worker-a", 2);
  cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  auto submitted = cluster.client(checkpointedRun("q5", output(), 2, 2000));
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  auto finished = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"}, std::chrono::seconds(120));
  ASSERT_EQ(finished.value("state", ""), "FINISHED") << finished.dump();
  EXPECT_EQ(finished["restarts"].get<int>(), 0) << finished.dump();
  EXPECT_GE(finished["checkpoints"]["completed"].get<int>(), 2) << finished.dump();
  EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q5.jsonl"), readCommittedLines(output())), "");
}

TEST_F(CheckpointRecoveryTest, ResumeRefusesStateOfRemovedNodesUnlessAllowed) {
  RecoveryCluster cluster(checkpointDir());
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  ASSERT_EQ(cluster.waitForWorkers(1), 1u);
  auto submitted = cluster.client(checkpointedRun("q5", output(), 1, 1000));
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  ASSERT_EQ(cluster.waitForState(jobId, {"RUNNING"}).value("state", ""), "RUNNING");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto stopped = cluster.client({"stop", jobId, "--savepoint", scratch_.file("savepoints")});
  ASSERT_EQ(stopped.exitCode, 0) << stopped.err;
  std::string savepoint = TestCluster::jobIdFrom(stopped.out);
  // q1 has none of q5's windows: refused, naming the node, unless state may be dropped.
  std::vector<std::string> other = {"run", "-d", "-s", savepoint};
  for (const auto& argument : TestCluster::nexmarkArguments("q1", scratch_.file("q1"))) other.push_back(argument);
  auto refused = cluster.client(other);
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find("bids_per_auction"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--allow-non-restored-state"), std::string::npos) << refused.err;
  other.insert(other.begin() + 2, "--allow-non-restored-state");
  auto allowed = cluster.client(other);
  EXPECT_EQ(allowed.exitCode, 0) << allowed.err;
  auto missing = cluster.client(
      {"run", "-s", scratch_.file("no-such-savepoint"), TestCluster::nexmarkArguments("q1", scratch_.file("q1b"))[0]});
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.err.find("no-such-savepoint"), std::string::npos) << missing.err;
}

TEST_F(CheckpointRecoveryTest, DamagedCommittedCheckpointFailsTheJobWithItsNameAndNoDuplicates) {
  RecoveryCluster cluster(checkpointDir());
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  ChildProcess& doomed = cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  auto arguments = checkpointedRun("q5", output(), 4);
  arguments.push_back("-D");
  arguments.push_back("restart-strategy.fixed-delay.delay=3s");
  auto submitted = cluster.client(arguments);
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  ASSERT_EQ(cluster.waitForState(jobId, {"RUNNING"}).value("state", ""), "RUNNING");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!hasCommittedPart(output()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(hasCommittedPart(output()));
  doomed.kill(SIGKILL);  // no checkpoint can complete any more
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto status = cluster.status(jobId);
  ASSERT_TRUE(status["checkpoints"]["latest"].is_number()) << status.dump();
  int64_t latest = status["checkpoints"]["latest"].get<int64_t>();
  fs::path checkpoint = fs::path(checkpointDir()) / jobId / ("chk-" + std::to_string(latest));
  int damaged = 0;
  for (const auto& entry : fs::directory_iterator(checkpoint)) {
    if (entry.path().filename() != "_metadata") damaged += fs::remove(entry.path()) ? 1 : 0;
  }
  ASSERT_GT(damaged, 0);
  cluster.startWorker("worker-c", 2);
  auto failed = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"}, std::chrono::seconds(60));
  EXPECT_EQ(failed.value("state", ""), "FAILED") << failed.dump();
  std::string failure = failed.value("failure", "");
  EXPECT_NE(failure.find("checkpoint " + std::to_string(latest)), std::string::npos) << failure;
  // What was committed is a subset of the expected rows: nothing duplicated.
  std::vector<std::string> committed = readCommittedLines(output());
  std::multiset<std::string> expected;
  for (const auto& line : readLines(testDataDir() + "/nexmark/expected/q5.jsonl")) {
    expected.insert(nlohmann::json::parse(line).dump());
  }
  for (const auto& line : committed) {
    auto found = expected.find(nlohmann::json::parse(line).dump());
    ASSERT_NE(found, expected.end()) << "duplicate or unexpected row " << line;
    expected.erase(found);
  }
}

TEST_F(CheckpointRecoveryTest, WorkerKilledDuringASnapshotRecovers) {
  RecoveryCluster cluster(checkpointDir());
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  cluster.startWorker("worker-b", 2);
  // worker-c dies inside the asynchronous upload of its tasks' 6th keyed snapshot (some files written,
  // none acknowledged) while its tasks go on processing.
  cluster.startWorker("worker-c", 2, {"/usr/bin/env", "SLUICE_FAULT_INJECTION=during-snapshot-upload:kill:5"});
  ASSERT_EQ(cluster.waitForWorkers(3), 3u);
  auto submitted = cluster.client(checkpointedRun("q11", output(), 4));
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  auto running = cluster.waitForState(jobId, {"RUNNING"});
  ASSERT_EQ(TestCluster::workersOf(running).count("worker-c"), 1u) << running.dump();
  auto finished = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"}, std::chrono::seconds(120));
  ASSERT_EQ(finished.value("state", ""), "FINISHED") << finished.dump();
  EXPECT_GE(finished["restarts"].get<int>(), 1) << finished.dump();
  EXPECT_FALSE(cluster.workerProcesses()[2]->running());
  EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q11.jsonl"), readCommittedLines(output())),
            "");
}

#else
/// Slow tier (built as random_kill_test): random kill times over q5, q11 and q3.
class RandomKillTest : public CheckpointRecoveryTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RandomKillTest, RecoversExactlyOnceAfterKillsAtRandomTimes) {
  std::mt19937 random(std::random_device{}());
  for (int run = 0; run < 5; ++run) {
    auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 6000)(random));
    SCOPED_TRACE(GetParam() + " run " + std::to_string(run) + ", kill " + std::to_string(delay.count()) +
                 " ms after the first commit");
    fs::remove_all(output());
    killAndRecover(GetParam(), delay);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Queries, RandomKillTest, ::testing::Values("q5", "q11", "q3"));
#endif

}  // namespace
}  // namespace sluice::testing
