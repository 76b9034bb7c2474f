#include "operators/file_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OperatorHarness;

RecordBatch rows(std::vector<int64_t> ids) {
  static const SchemaPtr schema = *Schema::make({{"id", DataType::kInt64}, {"name", DataType::kString}});
  RecordBatchBuilder builder(schema);
  for (int64_t id : ids) {
    builder.column(0).appendInt64(id);
    builder.column(1).appendString("n" + std::to_string(id));
  }
  return builder.finish();
}

class FileSinkTest : public ::testing::Test {
 protected:
  std::shared_ptr<FileSinkOptions> options() {
    auto result = std::make_shared<FileSinkOptions>();
    result->sinkId = "out";
    result->directory = (dir_.path() / "output").string();
    return result;
  }

  OperatorContext context(int subtask, int attempt = 0) {
    OperatorContext result;
    result.nodeId = "out";
    result.subtaskIndex = subtask;
    result.parallelism = 2;
    result.jobId = "job1";
    result.attempt = attempt;
    return result;
  }

  /// File names in the output directory, sorted.
  std::set<std::string> files() {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path() / "output")) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  std::string read(const std::string& name) { return testing::readFile((dir_.path() / "output" / name).string()); }

  testing::TempDir dir_;
};

TEST_F(FileSinkTest, PrepareCreatesDirectoryAndRefusesCommittedFiles) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  EXPECT_TRUE(std::filesystem::is_directory(sinkOptions->directory));
  testing::writeFile(sinkOptions->directory + "/.part-0-0.x-0.inprogress", "");
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));  // hidden files are not output
  testing::writeFile(sinkOptions->directory + "/part-0-0.jsonl", "{}\n");
  Status status = FileSink::prepare(*sinkOptions, false);
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "sink 'out': output directory '" + sinkOptions->directory +
                                  "' already holds committed files (part-*); choose an empty directory");
  ASSERT_OK(FileSink::prepare(*sinkOptions, true));  // a resume may continue
  testing::writeFile(dir_.file("plain"), "");
  sinkOptions->directory = dir_.file("plain");
  EXPECT_THAT(FileSink::prepare(*sinkOptions, false).message(), HasSubstr("is not a directory"));
}

TEST_F(FileSinkTest, WritesHiddenUntilCheckpointCompletes) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(1));
  ASSERT_OK(harness.open());
  EXPECT_TRUE(files().empty());  // nothing until rows arrive
  ASSERT_OK(harness.processBatch(rows({1, 2})));
  EXPECT_THAT(files(), ElementsAre(".part-1-0.job1-0.inprogress"));

  OperatorSnapshot first;
  ASSERT_OK(harness.snapshot(7, first));
  EXPECT_THAT(files(), ElementsAre(".part-1-0.job1-0.inprogress"));
  EXPECT_EQ(read(".part-1-0.job1-0.inprogress"), "{\"id\":1,\"name\":\"n1\"}\n{\"id\":2,\"name\":\"n2\"}\n");

  ASSERT_OK(harness.processBatch(rows({3})));
  OperatorSnapshot second;
  ASSERT_OK(harness.snapshot(8, second));
  ASSERT_OK(harness.notifyCheckpointComplete(7));
  EXPECT_THAT(files(), ElementsAre(".part-1-1.job1-0.inprogress", "part-1-0.jsonl"));
  ASSERT_OK(harness.notifyCheckpointComplete(8));
  EXPECT_THAT(files(), ElementsAre("part-1-0.jsonl", "part-1-1.jsonl"));

  ASSERT_OK(harness.processBatch(rows({4})));
  ASSERT_OK(harness.endInput());
  ASSERT_OK(harness.close());
  EXPECT_THAT(files(), ElementsAre("part-1-0.jsonl", "part-1-1.jsonl", "part-1-2.jsonl"));
  EXPECT_EQ(read("part-1-2.jsonl"), "{\"id\":4,\"name\":\"n4\"}\n");
  EXPECT_EQ(harness.op().recordsWritten(), 4);
}

TEST_F(FileSinkTest, SubtaskWithoutRowsCreatesNoFile) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0));
  ASSERT_OK(harness.open());
  OperatorSnapshot snapshot;
  ASSERT_OK(harness.snapshot(1, snapshot));
  ASSERT_OK(harness.endInput());
  ASSERT_OK(harness.close());
  EXPECT_TRUE(files().empty());
}

TEST_F(FileSinkTest, RestoreRecommitsPendingAndDropsUncheckpointedFiles) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  OperatorSnapshot checkpoint;
  {
    OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0));
    ASSERT_OK(harness.open());
    ASSERT_OK(harness.processBatch(rows({1})));
    OperatorSnapshot earlier;
    ASSERT_OK(harness.snapshot(1, earlier));
    ASSERT_OK(harness.notifyCheckpointComplete(1));
    ASSERT_OK(harness.processBatch(rows({2})));
    ASSERT_OK(harness.snapshot(2, checkpoint));  // pre-committed; the completion never arrives
    ASSERT_OK(harness.processBatch(rows({3})));  // after the checkpoint: must vanish
    OperatorSnapshot lost;
    ASSERT_OK(harness.snapshot(3, lost));
    ASSERT_OK(harness.processBatch(rows({4})));
    // The task fails here: close without finish.
  }
  EXPECT_THAT(files(), ElementsAre(".part-0-1.job1-0.inprogress", ".part-0-2.job1-0.inprogress",
                                   ".part-0-3.job1-0.inprogress", "part-0-0.jsonl"));
  testing::writeFile(sinkOptions->directory + "/.part-1-0.job1-0.inprogress", "other subtask");

  for (int restoreRound = 0; restoreRound < 2; ++restoreRound) {  // restoring twice is harmless
    ASSERT_OK(FileSink::prepare(*sinkOptions, true));
    OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0, 1 + restoreRound));
    ASSERT_OK(harness.op().restoreState(checkpoint));
    ASSERT_OK(harness.open());
    EXPECT_THAT(files(), ElementsAre(".part-1-0.job1-0.inprogress", "part-0-0.jsonl", "part-0-1.jsonl"));
    if (restoreRound == 1) {
      ASSERT_OK(harness.processBatch(rows({5})));
      ASSERT_OK(harness.endInput());
    }
    ASSERT_OK(harness.close());
  }
  EXPECT_THAT(files(),
              ElementsAre(".part-1-0.job1-0.inprogress", "part-0-0.jsonl", "part-0-1.jsonl", "part-0-2.jsonl"));
  EXPECT_EQ(read("part-0-1.jsonl"), "{\"id\":2,\"name\":\"n2\"}\n");
  EXPECT_EQ(read("part-0-2.jsonl"), "{\"id\":5,\"name\":\"n5\"}\n");
}

TEST_F(FileSinkTest, SeqContinuesAfterExistingParts) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  testing::writeFile(sinkOptions->directory + "/part-0-4.jsonl", "{}\n");
  testing::writeFile(sinkOptions->directory + "/part-1-9.jsonl", "{}\n");
  OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0));
  ASSERT_OK(harness.open());
  ASSERT_OK(harness.processBatch(rows({1})));
  ASSERT_OK(harness.endInput());
  ASSERT_OK(harness.close());
  EXPECT_THAT(files(), ElementsAre("part-0-4.jsonl", "part-0-5.jsonl", "part-1-9.jsonl"));
}

TEST_F(FileSinkTest, MissingPendingFileIsCorruption) {
  auto sinkOptions = options();
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  OperatorSnapshot snapshot;
  snapshot.blobs["pending-files"] = "4\t.part-0-0.job1-0.inprogress\tpart-0-0.jsonl\n";
  OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0));
  ASSERT_OK(harness.op().restoreState(snapshot));
  Status status = harness.open();
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_THAT(status.message(), HasSubstr("checkpoint 4"));
  snapshot.blobs["pending-files"] = "garbage\n";
  FileSink sink(sinkOptions);
  EXPECT_EQ(sink.restoreState(snapshot).code(), StatusCode::kCorruption);
}

TEST_F(FileSinkTest, CsvFormatAndSmallBuffer) {
  auto sinkOptions = options();
  sinkOptions->format = FileFormat::kCsv;
  sinkOptions->bufferBytes = 8;  // forces a write per batch
  ASSERT_OK(FileSink::prepare(*sinkOptions, false));
  OperatorHarness harness(std::make_unique<FileSink>(sinkOptions), context(0));
  ASSERT_OK(harness.open());
  ASSERT_OK(harness.processBatch(rows({1, 2})));
  EXPECT_EQ(read(".part-0-0.job1-0.inprogress"), "1,n1\n2,n2\n");
  ASSERT_OK(harness.endInput());
  ASSERT_OK(harness.close());
  EXPECT_EQ(read("part-0-0.csv"), "1,n1\n2,n2\n");
}

}  // namespace
}  // namespace sluice
