#include "operators/file_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "operators/nexmark/nexmark_source.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using testing::CollectingOutput;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

SchemaPtr makeSchema(std::vector<Field> fields) { return *Schema::make(std::move(fields)); }

/// Polls `reader` until it is exhausted; fails the test on an error.
Status drain(SourceReader& reader, Output& out, int maxPolls = 100000) {
  for (int i = 0; i < maxPolls; ++i) {
    auto more = reader.pollNext(out);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
  }
  return Status::internal("reader never ended");
}

std::vector<int64_t> int64Column(const std::vector<RecordBatch>& batches, int column) {
  std::vector<int64_t> values;
  for (const auto& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) values.push_back(batch.column(column)->int64s()[row]);
  }
  return values;
}

class FileSourceTest : public ::testing::Test {
 protected:
  std::shared_ptr<FileSourceOptions> jsonOptions(const std::string& contents) {
    path_ = dir_.file("events.jsonl");
    testing::writeFile(path_, contents);
    auto options = std::make_shared<FileSourceOptions>();
    options->sourceId = "events";
    options->path = path_;
    options->kinds = {{"", makeSchema({{"id", DataType::kInt64}, {"ts", DataType::kTimestamp}}), 1}};
    return options;
  }

  testing::TempDir dir_;
  std::string path_;
};

TEST_F(FileSourceTest, EmitsBatchesAndBoundedWatermarks) {
  auto options = jsonOptions(
      "{\"id\":1,\"ts\":1000}\n{\"id\":2,\"ts\":3000}\n\n{\"id\":3,\"ts\":2000}\n"
      "{\"id\":4,\"ts\":5000}\n{\"id\":5,\"ts\":4000}\n");
  options->batchSize = 2;
  options->maxOutOfOrdernessMs = 1500;
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_EQ(reader.recordsRead(), 5);
  EXPECT_THAT(int64Column(out.batches, 0), ElementsAre(1, 2, 3, 4, 5));
  ASSERT_EQ(out.batches.size(), 3u);
  EXPECT_EQ(out.batches[0].eventTimeIndex(), 1);
  // max - bound - 1 after each batch, only when it advanced (the third batch's max is 5000 too).
  EXPECT_THAT(out.watermarks, ElementsAre(3000 - 1501, 5000 - 1501));
  ASSERT_OK(reader.close());
}

TEST_F(FileSourceTest, MalformedLineFailsWithPathAndLine) {
  auto options = jsonOptions("{\"id\":1,\"ts\":1}\n\n{\"id\":\"x\",\"ts\":2}\n");
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  Status status = drain(reader, out);
  EXPECT_EQ(status.code(), StatusCode::kParseError);
  EXPECT_EQ(status.message(), path_ + ":3: field 'id': expected int64, got string");
}

TEST_F(FileSourceTest, SkipPolicyCountsBadLines) {
  auto options =
      jsonOptions("\xEF\xBB\xBF{\"id\":1,\"ts\":1}\nbroken\n  \t\n{\"id\":2}\n{\"id\":3,\"ts\":3}\n# comment\n");
  options->onError = ErrorPolicy::kSkip;
  options->skipPrefixes = {"#"};
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_THAT(int64Column(out.batches, 0), ElementsAre(1, 3));
  EXPECT_EQ(reader.skippedLines(), 2);
}

TEST_F(FileSourceTest, KindsGoToSideOutputsAndUnknownKindsAreCounted) {
  path_ = dir_.file("mixed.jsonl");
  testing::writeFile(path_,
                     "{\"type\":\"bid\",\"price\":5,\"t\":10}\n"
                     "{\"type\":\"ad\",\"x\":1}\n"
                     "{\"type\":\"person\",\"name\":\"Ann\",\"t\":20}\n"
                     "{\"type\":\"bid\",\"price\":7,\"t\":30}\n");
  auto options = std::make_shared<FileSourceOptions>();
  options->sourceId = "events";
  options->path = path_;
  options->discriminator = "type";
  options->kinds = {{"bid", makeSchema({{"price", DataType::kInt64}, {"t", DataType::kTimestamp}}), 1},
                    {"person", makeSchema({{"name", DataType::kString}, {"t", DataType::kTimestamp}}), 1}};
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_TRUE(out.batches.empty());
  EXPECT_THAT(int64Column(out.sides["bid"], 0), ElementsAre(5, 7));
  ASSERT_EQ(out.sides["person"].size(), 1u);
  EXPECT_EQ(out.sides["person"][0].column(0)->stringAt(0), "Ann");
  EXPECT_EQ(reader.unknownKindLines(), 1);
  EXPECT_THAT(out.watermarks, ElementsAre(29));  // one watermark over both kinds
}

TEST_F(FileSourceTest, CsvWithKindsAndHeader) {
  path_ = dir_.file("payments.csv");
  testing::writeFile(path_, "type,txn_id,ts_ms,amount\r\nT,1,100,250\r\nL,1,150\r\nT,2,120,99\r\n");
  auto options = std::make_shared<FileSourceOptions>();
  options->sourceId = "payments";
  options->path = path_;
  options->format = FileFormat::kCsv;
  options->skipPrefixes = {"type"};
  options->kinds = {
      {"T", makeSchema({{"txn_id", DataType::kUInt64}, {"ts_ms", DataType::kTimestamp}, {"amount", DataType::kInt64}}),
       1},
      {"L", makeSchema({{"txn_id", DataType::kUInt64}, {"ts_ms", DataType::kTimestamp}}), 1}};
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_THAT(int64Column(out.sides["T"], 2), ElementsAre(250, 99));
  EXPECT_THAT(int64Column(out.sides["L"], 1), ElementsAre(150));
}

TEST_F(FileSourceTest, CsvErrorHasLineNumber) {
  path_ = dir_.file("bad.csv");
  testing::writeFile(path_, "1,10\n2,20\n3,x\n");
  auto options = std::make_shared<FileSourceOptions>();
  options->sourceId = "in";
  options->path = path_;
  options->format = FileFormat::kCsv;
  options->kinds = {{"", makeSchema({{"id", DataType::kInt64}, {"ts", DataType::kTimestamp}}), 1}};
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  EXPECT_EQ(drain(reader, out).message(), path_ + ":3: column 2 'ts': expected timestamp, got 'x'");
}

TEST_F(FileSourceTest, SplitsReadEveryRecordOnceWithFileLineNumbers) {
  std::string contents;
  for (int i = 0; i < 500; ++i)
    contents += "{\"id\":" + std::to_string(i) + ",\"ts\":" + std::to_string(i * 10) + "}\n";
  contents += "{\"id\":\"bad\",\"ts\":0}";  // line 501, no trailing newline
  auto options = jsonOptions(contents);
  options->batchSize = 37;
  options->onError = ErrorPolicy::kSkip;
  for (int numSplits = 1; numSplits <= 7; ++numSplits) {
    std::set<int64_t> ids;
    int64_t skipped = 0;
    for (int split = 0; split < numSplits; ++split) {
      FileSourceReader reader(options, split, numSplits);
      ASSERT_OK(reader.open({}));
      CollectingOutput out;
      ASSERT_OK(drain(reader, out));
      for (int64_t id : int64Column(out.batches, 0)) EXPECT_TRUE(ids.insert(id).second) << id;
      skipped += reader.skippedLines();
    }
    EXPECT_EQ(ids.size(), 500u) << numSplits;
    EXPECT_EQ(skipped, 1);
  }
  // The failing line is reported with its line number in the file, from whichever split reads it.
  options->onError = ErrorPolicy::kFail;
  FileSourceReader last(options, 6, 7);
  ASSERT_OK(last.open({}));
  CollectingOutput out;
  EXPECT_EQ(drain(last, out).message(), path_ + ":501: field 'id': expected int64, got string");
}

TEST_F(FileSourceTest, RestoredReaderContinuesAfterLastEmittedRecord) {
  std::string contents;
  for (int i = 0; i < 100; ++i) contents += "{\"id\":" + std::to_string(i) + ",\"ts\":" + std::to_string(i) + "}\n";
  contents += "{\"id\":\"bad\",\"ts\":0}\n";
  auto options = jsonOptions(contents);
  options->batchSize = 10;
  for (int numSplits : {1, 3}) {
    for (int split = 0; split < numSplits; ++split) {
      FileSourceReader first(options, split, numSplits);
      ASSERT_OK(first.open({}));
      CollectingOutput before;
      ASSERT_OK_AND_ASSIGN(bool more, first.pollNext(before));
      ASSERT_TRUE(more);
      ASSERT_OK(first.pollNext(before).status());
      const std::string position = first.snapshotPosition();
      ASSERT_FALSE(position.empty());

      FileSourceReader restored(options, split, numSplits);
      ASSERT_OK(restored.restorePosition(position));
      EXPECT_EQ(restored.snapshotPosition(), position);
      ASSERT_OK(restored.open({}));
      CollectingOutput after;
      Status end = drain(restored, after);
      // The bad line is the last line of the file, so only the last split hits it,
      // and still reports its true line number.
      if (split == numSplits - 1) {
        EXPECT_EQ(end.message(), path_ + ":101: field 'id': expected int64, got string");
      } else {
        EXPECT_OK(end);
      }
      FileSourceReader whole(options, split, numSplits);
      ASSERT_OK(whole.open({}));
      CollectingOutput all;
      ignoreError(drain(whole, all));

      std::vector<int64_t> combined = int64Column(before.batches, 0);
      for (int64_t id : int64Column(after.batches, 0)) combined.push_back(id);
      EXPECT_EQ(combined, int64Column(all.batches, 0)) << split << " of " << numSplits;
      // The watermark state survives: no watermark goes backwards or repeats.
      if (!before.watermarks.empty() && !after.watermarks.empty()) {
        EXPECT_GT(after.watermarks.front(), before.watermarks.back());
      }
      EXPECT_EQ(restored.recordsRead(), whole.recordsRead());
    }
  }
}

TEST_F(FileSourceTest, RestoreRejectsForeignPositions) {
  auto options = jsonOptions("{\"id\":1,\"ts\":1}\n");
  FileSourceReader reader(options, 0, 2);
  EXPECT_EQ(reader.restorePosition("garbage").code(), StatusCode::kCorruption);
  EXPECT_THAT(reader.restorePosition("file-v1 1 2 0 1 0 0 0").message(), HasSubstr("split 1 of 2"));
}

TEST_F(FileSourceTest, MissingFileFailsOpenNamingSource) {
  auto options = jsonOptions("");
  options->path = dir_.file("missing.jsonl");
  FileSourceReader reader(options, 0, 1);
  EXPECT_EQ(reader.open({}).message(),
            "source 'events': cannot open '" + options->path + "': No such file or directory");
}

TEST_F(FileSourceTest, RateLimitPacesRecords) {
  std::string contents;
  for (int i = 0; i < 30; ++i) contents += "{\"id\":" + std::to_string(i) + ",\"ts\":0}\n";
  auto options = jsonOptions(contents);
  options->rateLimit = 200.0;  // 30 records ≈ 150 ms
  FileSourceReader reader(options, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(drain(reader, out));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.numRows(), 30);
  EXPECT_GE(elapsed, std::chrono::milliseconds(120));
  EXPECT_GT(out.batches.size(), 1u);  // small batches keep the task responsive
}

TEST_F(FileSourceTest, ReadsTheNexmarkSample) {
  auto options = std::make_shared<FileSourceOptions>();
  options->sourceId = "events";
  options->path = testing::testDataDir() + "/nexmark/events.jsonl";
  options->discriminator = "type";
  options->maxOutOfOrdernessMs = 1500;
  // The `nexmark` source's kinds (person, auction, bid) with their schemas, bid first.
  for (const int index : {2, 0, 1}) {
    const NexmarkKind& kind = nexmarkKinds()[index];
    options->kinds.push_back({kind.name, kind.schema, kind.eventTimeIndex});
  }
  std::map<std::string, int64_t> rows;
  for (int split = 0; split < 3; ++split) {
    FileSourceReader reader(options, split, 3);
    ASSERT_OK(reader.open({}));
    CollectingOutput out;
    ASSERT_OK(drain(reader, out));
    for (const auto& [kind, batches] : out.sides) {
      for (const auto& batch : batches) {
        rows[kind] += batch.numRows();
        EXPECT_EQ(batch.column(batch.eventTimeIndex())->nullCount(), 0);
      }
    }
  }
  EXPECT_EQ(rows["bid"], 18400);
  EXPECT_EQ(rows["person"], 400);
  EXPECT_EQ(rows["auction"], 1200);
}

}  // namespace
}  // namespace sluice
