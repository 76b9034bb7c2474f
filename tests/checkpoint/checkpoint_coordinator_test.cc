// The job manager's checkpoint coordinator: triggering, completion, retention, restore choice.
#include "jobmanager/checkpoint_coordinator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "runtime/checkpoint/checkpoint_storage.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using transport::TaskRef;

class CheckpointCoordinatorTest : public ::testing::Test {
 protected:
  CheckpointCoordinator make(int retained = 2) {
    CheckpointSettings settings;
    settings.interval = std::chrono::milliseconds(1);
    settings.retained = retained;
    settings.jobDirectory = (dir_.path() / "job1").string();
    return CheckpointCoordinator("job1", "test", settings, 128, {{"source", 1}, {"sink", 1}});
  }
  std::vector<CoordinatedTask> tasks(const std::string& sourceState = "RUNNING",
                                     const std::string& sinkState = "RUNNING") {
    return {CoordinatedTask{{"source", 0}, sourceState, true}, CoordinatedTask{{"sink", 0}, sinkState, false}};
  }
  /// Acknowledges `id` for `task`, with one operator-state file written like a worker would.
  Result<std::optional<int64_t>> ack(CheckpointCoordinator& coordinator, int64_t id, const std::string& node,
                                     bool finished = false, int64_t timingMs = 0) {
    std::string directory = (dir_.path() / "job1" / ("chk-" + std::to_string(id))).string();
    fs::create_directories(directory);
    OperatorSnapshot snapshot;
    snapshot.blobs["n"] = std::to_string(id);
    std::string bytes = encodeOperatorState(snapshot);
    SLUICE_RETURN_NOT_OK(writeFileAtomically(directory + "/op-" + node + "-0.state", bytes));
    TaskStateHandle handle;
    handle.head = node;
    handle.finished = finished;
    OperatorStateHandle op;
    op.node = node;
    op.operatorStateFile = "chk-" + std::to_string(id) + "/op-" + node + "-0.state";
    op.operatorStateBytes = static_cast<int64_t>(bytes.size());
    handle.operators.push_back(op);
    transport::AcknowledgeCheckpoint message;
    message.jobId = "job1";
    message.attempt = 1;
    message.checkpointId = id;
    message.task = TaskRef{node, 0};
    message.state = toJson(handle);
    message.finished = finished;
    message.sizeBytes = op.operatorStateBytes;
    message.alignmentMs = timingMs;
    message.syncMs = timingMs * 2;
    message.asyncMs = timingMs * 3;
    message.startDelayMs = timingMs * 4;
    return coordinator.acknowledge(message);
  }
  testing::TempDir dir_;
};

TEST_F(CheckpointCoordinatorTest, TriggersSourcesDirectlyAndCompletesWhenEveryTaskAcknowledged) {
  CheckpointCoordinator coordinator = make();
  EXPECT_FALSE(coordinator.maybeTrigger(tasks("DEPLOYING"), 1).has_value());  // not all running yet
  auto trigger = coordinator.maybeTrigger(tasks(), 1);
  ASSERT_TRUE(trigger.has_value());
  EXPECT_EQ(trigger->checkpointId, 1);
  EXPECT_EQ(trigger->tasks, (std::vector<TaskRef>{{"source", 0}}));
  EXPECT_EQ(trigger->directory, (dir_.path() / "job1" / "chk-1").string());
  EXPECT_FALSE(coordinator.maybeTrigger(tasks(), 1).has_value());  // one at a time

  ASSERT_OK_AND_ASSIGN(auto first, ack(coordinator, 1, "source"));
  EXPECT_FALSE(first.has_value());
  EXPECT_FALSE(fs::exists(dir_.path() / "job1/chk-1/_metadata"));  // not complete yet
  ASSERT_OK_AND_ASSIGN(auto second, ack(coordinator, 1, "sink"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 1);
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, loadCheckpoint((dir_.path() / "job1/chk-1").string()));
  EXPECT_EQ(loaded.metadata.tasks.size(), 2u);
  ASSERT_OK(verifyCheckpoint(loaded));
  nlohmann::json status = coordinator.statusJson();
  EXPECT_EQ(status["completed"], 1);
  EXPECT_EQ(status["latest"], 1);
  EXPECT_EQ(status["history"][0]["status"], "COMPLETED");
}

// The history shows, per checkpoint, the slowest task's wait for its first barrier, alignment,
// synchronous part and upload: where a slow checkpoint spent its time.
TEST_F(CheckpointCoordinatorTest, HistoryShowsTheSlowestTasksTimings) {
  CheckpointCoordinator coordinator = make();
  ASSERT_TRUE(coordinator.maybeTrigger(tasks(), 1).has_value());
  ASSERT_OK(ack(coordinator, 1, "source", false, 10).status());
  ASSERT_OK(ack(coordinator, 1, "sink", false, 5).status());
  nlohmann::json entry = coordinator.statusJson()["history"][0];
  EXPECT_EQ(entry["status"], "COMPLETED");
  EXPECT_EQ(entry["alignment_ms"], 10);
  EXPECT_EQ(entry["sync_ms"], 20);
  EXPECT_EQ(entry["async_ms"], 30);
  EXPECT_EQ(entry["start_delay_ms"], 40);
}

TEST_F(CheckpointCoordinatorTest, RetainsTheLastNAndDeletesOlderCheckpoints) {
  CheckpointCoordinator coordinator = make(/*retained=*/2);
  for (int64_t id = 1; id <= 3; ++id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto trigger = coordinator.maybeTrigger(tasks(), 1);
    ASSERT_TRUE(trigger.has_value());
    ASSERT_OK(ack(coordinator, id, "source").status());
    ASSERT_OK(ack(coordinator, id, "sink").status());
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "job1/chk-1"));
  EXPECT_TRUE(fs::exists(dir_.path() / "job1/chk-2/_metadata"));
  EXPECT_TRUE(fs::exists(dir_.path() / "job1/chk-3/_metadata"));
  EXPECT_EQ(coordinator.statusJson()["retained"], nlohmann::json::array({2, 3}));
}

TEST_F(CheckpointCoordinatorTest, DeclineAbortsAndTheNextCheckpointGetsANewId) {
  CheckpointCoordinator coordinator = make();
  ASSERT_TRUE(coordinator.maybeTrigger(tasks(), 1).has_value());
  coordinator.decline(transport::DeclineCheckpoint{"job1", 1, 1, {"sink", 0}, "disk full"});
  EXPECT_FALSE(coordinator.pendingId().has_value());
  nlohmann::json status = coordinator.statusJson();
  EXPECT_EQ(status["failed"], 1);
  EXPECT_NE(status["history"][0]["failure"].get<std::string>().find("disk full"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto next = coordinator.maybeTrigger(tasks(), 1);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->checkpointId, 2);
  // A late acknowledgement of the aborted checkpoint is ignored.
  ASSERT_OK_AND_ASSIGN(auto late, ack(coordinator, 1, "source"));
  EXPECT_FALSE(late.has_value());
}

TEST_F(CheckpointCoordinatorTest, FinalCheckpointGoesAtOnceAndFinishedTasksKeepTheirLastState) {
  CheckpointCoordinator coordinator = make();
  // The source finished and acknowledged checkpoint 1 as finished; the sink is still running.
  ASSERT_TRUE(coordinator.maybeTrigger(tasks("FINISHING"), 1).has_value());
  ASSERT_OK(ack(coordinator, 1, "source", /*finished=*/true).status());
  ASSERT_OK(ack(coordinator, 1, "sink").status());
  // Now the source has exited; the sink's input ended: the final checkpoint triggers
  // without waiting for the interval, and triggers the sink directly.
  auto final = coordinator.maybeTrigger(tasks("FINISHED", "FINISHING"), 1);
  ASSERT_TRUE(final.has_value());
  EXPECT_EQ(final->tasks, (std::vector<TaskRef>{{"sink", 0}}));
  ASSERT_OK_AND_ASSIGN(auto completed, ack(coordinator, 2, "sink", /*finished=*/true));
  ASSERT_TRUE(completed.has_value());
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, loadCheckpoint((dir_.path() / "job1/chk-2").string()));
  ASSERT_EQ(loaded.metadata.tasks.size(), 2u);  // the finished source's state from checkpoint 1
  for (const auto& task : loaded.metadata.tasks) EXPECT_TRUE(task.finished);
  EXPECT_FALSE(coordinator.maybeTrigger(tasks("FINISHED", "FINISHED"), 1).has_value());
  // The sink is about to exit on checkpoint 2's notification: no checkpoint may wait for it.
  EXPECT_FALSE(coordinator.maybeTrigger(tasks("FINISHED", "FINISHING"), 1).has_value());
}

TEST_F(CheckpointCoordinatorTest, TaskWhoseFinishedStateIsDurableIsNotAwaitedAgain) {
  CheckpointCoordinator coordinator = make();
  ASSERT_TRUE(coordinator.maybeTrigger(tasks("FINISHING"), 1).has_value());
  ASSERT_OK(ack(coordinator, 1, "source", /*finished=*/true).status());
  ASSERT_OK(ack(coordinator, 1, "sink").status());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // The job manager has not yet heard that the source exited; it must not wait for it.
  auto next = coordinator.maybeTrigger(tasks("FINISHING", "RUNNING"), 1);
  ASSERT_TRUE(next.has_value());
  EXPECT_TRUE(next->tasks.empty());
  ASSERT_OK_AND_ASSIGN(auto completed, ack(coordinator, 2, "sink"));
  EXPECT_TRUE(completed.has_value());
}

TEST_F(CheckpointCoordinatorTest, DamagedUncommittedCheckpointFallsBackCommittedOneFailsWithItsName) {
  CheckpointCoordinator coordinator = make(/*retained=*/3);
  for (int64_t id = 1; id <= 2; ++id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(coordinator.maybeTrigger(tasks(), 1).has_value());
    ASSERT_OK(ack(coordinator, id, "source").status());
    ASSERT_OK(ack(coordinator, id, "sink").status());
  }
  coordinator.markNotified(1);
  fs::remove(dir_.path() / "job1/chk-2/op-sink-0.state");
  // Checkpoint 2 was never announced to the sinks: skipped in favour of 1.
  ASSERT_OK_AND_ASSIGN(auto path, coordinator.restorePath());
  ASSERT_TRUE(path.has_value());
  EXPECT_NE(path->find("chk-1"), std::string::npos);
  // Checkpoint 1's output may be committed: damage to it fails with its name.
  fs::remove(dir_.path() / "job1/chk-1/op-sink-0.state");
  auto failed = coordinator.restorePath();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("checkpoint 1"), std::string::npos);
  EXPECT_NE(failed.status().message().find("duplicate"), std::string::npos);
}

TEST_F(CheckpointCoordinatorTest, SavepointIsSelfContained) {
  CheckpointCoordinator coordinator = make();
  ASSERT_TRUE(coordinator.maybeTrigger(tasks(), 1).has_value());
  ASSERT_OK(ack(coordinator, 1, "source").status());
  ASSERT_OK(ack(coordinator, 1, "sink").status());
  ASSERT_OK_AND_ASSIGN(std::string path, coordinator.writeSavepoint(1, (dir_.path() / "savepoints").string()));
  fs::remove_all(dir_.path() / "job1");  // the savepoint must not need the checkpoint directory
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, loadCheckpoint(path));
  EXPECT_TRUE(loaded.metadata.savepoint);
  EXPECT_EQ(fs::path(loaded.root), fs::path(path).lexically_normal());
  ASSERT_OK(verifyCheckpoint(loaded));
}

}  // namespace
}  // namespace sluice
