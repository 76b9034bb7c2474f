#include "operators/generator_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using testing::CollectingOutput;

Status drain(SourceReader& reader, Output& out) {
  while (true) {
    auto more = reader.pollNext(out);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
  }
}

std::shared_ptr<GeneratorOptions> options(int64_t count) {
  auto result = std::make_shared<GeneratorOptions>();
  result->sourceId = "gen";
  result->count = count;
  result->keys = 7;
  result->startTime = 1000;
  result->intervalMs = 10;
  result->batchSize = 64;
  return result;
}

TEST(GeneratorSourceTest, RowsAreDeterministicAndSplitAcrossReaders) {
  auto generator = options(1000);
  std::vector<bool> seen(1000, false);
  for (int split = 0; split < 3; ++split) {
    GeneratorSourceReader reader(generator, split, 3);
    ASSERT_OK(reader.open({}));
    CollectingOutput out;
    ASSERT_OK(drain(reader, out));
    for (const auto& batch : out.batches) {
      EXPECT_EQ(batch.eventTimeIndex(), kGeneratorEventTimeIndex);
      EXPECT_TRUE(*batch.schema() == *generatorSchema());
      for (int64_t row = 0; row < batch.numRows(); ++row) {
        const int64_t id = batch.column(0)->int64s()[row];
        EXPECT_FALSE(seen[id]);
        seen[id] = true;
        EXPECT_EQ(batch.column(1)->int64s()[row], 1000 + id * 10);
        EXPECT_EQ(batch.column(2)->int64s()[row], generatorValue(id));
        EXPECT_EQ(batch.column(3)->int64s()[row], id % 7);
      }
    }
    EXPECT_FALSE(out.watermarks.empty());
    EXPECT_TRUE(std::is_sorted(out.watermarks.begin(), out.watermarks.end()));
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 1000);
  EXPECT_EQ(generatorValue(0), generatorValue(0));
  EXPECT_NE(generatorValue(0), generatorValue(1));
  EXPECT_GE(generatorValue(12345), 0);
  EXPECT_LT(generatorValue(12345), 1000000);
}

TEST(GeneratorSourceTest, RestoreContinuesAtNextId) {
  auto generator = options(200);
  GeneratorSourceReader first(generator, 1, 2);
  ASSERT_OK(first.open({}));
  CollectingOutput before;
  ASSERT_OK(first.pollNext(before).status());
  GeneratorSourceReader restored(generator, 1, 2);
  ASSERT_OK(restored.restorePosition(first.snapshotPosition()));
  ASSERT_OK(restored.open({}));
  CollectingOutput after;
  ASSERT_OK(drain(restored, after));
  EXPECT_EQ(before.batches[0].column(0)->int64s()[0], 100);
  EXPECT_EQ(after.batches[0].column(0)->int64s()[0], 164);
  EXPECT_EQ(before.numRows() + after.numRows(), 100);
  EXPECT_EQ(restored.recordsRead(), 100);
  EXPECT_EQ(restored.restorePosition("generator-v1 0 2 5 0 0").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
