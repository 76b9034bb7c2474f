// Checkpoint storage: operator-state files, metadata JSON, atomic writes, loading and verifying.
#include "runtime/checkpoint/checkpoint_storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/base/fault_injection.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CheckpointStorageTest, OperatorStateRoundTripsIncludingBinaryBlobs) {
  OperatorSnapshot snapshot;
  snapshot.blobs["pending"] = std::string("a\0b\tc\n", 6);
  snapshot.blobs["empty"] = "";
  std::string bytes = encodeOperatorState(snapshot);
  ASSERT_OK_AND_ASSIGN(OperatorSnapshot decoded, decodeOperatorState(bytes, "x.state"));
  EXPECT_EQ(decoded.blobs, snapshot.blobs);
}

TEST(CheckpointStorageTest, DamagedOperatorStateIsCorruptionNamingTheFile) {
  OperatorSnapshot snapshot;
  snapshot.blobs["sum"] = "12345";
  std::string bytes = encodeOperatorState(snapshot);
  bytes[14] ^= 1;
  auto decoded = decodeOperatorState(bytes, "chk-3/op-sum-0.state");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("chk-3/op-sum-0.state"), std::string::npos);
  EXPECT_NE(decoded.status().message().find("checksum"), std::string::npos);
  EXPECT_FALSE(decodeOperatorState("SLOP", "short").ok());
  EXPECT_FALSE(decodeOperatorState(bytes.substr(0, bytes.size() - 3), "cut").ok());
}

TEST(CheckpointStorageTest, WriteFileAtomicallyReplacesWholeFileAndLeavesNoTemporary) {
  testing::TempDir dir;
  std::string path = dir.file("_metadata");
  ASSERT_OK(writeFileAtomically(path, "first"));
  ASSERT_OK(writeFileAtomically(path, "second"));
  EXPECT_EQ(readFile(path), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_FALSE(writeFileAtomically(dir.file("missing/_metadata"), "x").ok());
}

CheckpointMetadata sampleMetadata() {
  CheckpointMetadata metadata;
  metadata.jobId = "job1";
  metadata.jobName = "q5";
  metadata.checkpointId = 4;
  metadata.timestampMs = 1234;
  metadata.maxParallelism = 128;
  metadata.parallelism = {{"bids", 2}, {"sink", 1}};
  TaskStateHandle task;
  task.head = "bids";
  task.subtask = 1;
  task.finished = true;
  OperatorStateHandle source;
  source.node = "bids";
  source.isSource = true;
  source.sourcePosition = "1 1 2 300 7";
  task.operators.push_back(source);
  OperatorStateHandle op;
  op.node = "count";
  op.operatorStateFile = "chk-4/op-count-1.state";
  op.operatorStateBytes = 42;
  StateSnapshot keyed;
  keyed.backendType = "rocksdb";
  keyed.keyGroups = {64, 127};
  keyed.files = {"chk-4/x-MANIFEST", "shared/y.sst"};
  keyed.metadata = "manifest\ntext\n";
  keyed.sizeBytes = 1000;
  keyed.incrementalSizeBytes = 10;
  keyed.checkpointId = 4;
  op.keyedState = keyed;
  task.operators.push_back(op);
  metadata.tasks.push_back(task);
  return metadata;
}

TEST(CheckpointStorageTest, MetadataRoundTripsThroughJson) {
  CheckpointMetadata metadata = sampleMetadata();
  ASSERT_OK_AND_ASSIGN(CheckpointMetadata parsed, parseCheckpointMetadata(toJson(metadata), "m"));
  EXPECT_EQ(parsed.jobId, "job1");
  EXPECT_EQ(parsed.checkpointId, 4);
  EXPECT_EQ(parsed.parallelism, metadata.parallelism);
  ASSERT_EQ(parsed.tasks.size(), 1u);
  const TaskStateHandle& task = parsed.tasks[0];
  EXPECT_TRUE(task.finished);
  ASSERT_EQ(task.operators.size(), 2u);
  EXPECT_EQ(task.operators[0].sourcePosition, "1 1 2 300 7");
  ASSERT_TRUE(task.operators[1].keyedState.has_value());
  EXPECT_EQ(task.operators[1].keyedState->keyGroups, (KeyGroupRange{64, 127}));
  EXPECT_EQ(task.operators[1].keyedState->metadata, "manifest\ntext\n");
  EXPECT_EQ(parsed.files(), (std::vector<std::string>{"chk-4/op-count-1.state", "chk-4/x-MANIFEST", "shared/y.sst"}));
  EXPECT_EQ(parsed.sizeBytes(), 1042);

  ASSERT_OK_AND_ASSIGN(TaskStateHandle handle, parseTaskStateHandle(toJson(task), "ack"));
  EXPECT_EQ(handle.head, "bids");
  EXPECT_EQ(parseTaskStateHandle("{", "ack").status().code(), StatusCode::kCorruption);
  auto wrong = parseCheckpointMetadata(R"({"format":"other"})", "/x/_metadata");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("/x/_metadata"), std::string::npos);
}

TEST(CheckpointStorageTest, LoadFindsMetadataInDirectoryAndVerifyNamesMissingFile) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "job1" / "chk-4");
  CheckpointMetadata metadata = sampleMetadata();
  metadata.tasks[0].operators[1].keyedState.reset();  // operator state only
  OperatorSnapshot snapshot;
  snapshot.blobs["sum"] = "3";
  std::string bytes = encodeOperatorState(snapshot);
  metadata.tasks[0].operators[1].operatorStateBytes = static_cast<int64_t>(bytes.size());
  ASSERT_OK(writeFileAtomically((dir.path() / "job1/chk-4/op-count-1.state").string(), bytes));
  ASSERT_OK(writeFileAtomically((dir.path() / "job1/chk-4/_metadata").string(), toJson(metadata)));

  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, loadCheckpoint((dir.path() / "job1/chk-4").string()));
  EXPECT_EQ(fs::path(loaded.root), (dir.path() / "job1").lexically_normal());
  ASSERT_OK(verifyCheckpoint(loaded));
  ASSERT_OK_AND_ASSIGN(OperatorSnapshot restored, readOperatorState(loaded.root, "chk-4/op-count-1.state"));
  EXPECT_EQ(restored.blobs.at("sum"), "3");

  fs::remove(dir.path() / "job1/chk-4/op-count-1.state");
  Status damaged = verifyCheckpoint(loaded);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.message().find("op-count-1.state"), std::string::npos);

  auto missing = loadCheckpoint(dir.file("nothing-here"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nothing-here"), std::string::npos);
}

TEST(CheckpointStorageTest, FaultPointIsInactiveWithoutTheEnvironmentVariable) {
  EXPECT_OK(faultPoint("after-checkpoint-ack"));
}

}  // namespace
}  // namespace sluice
