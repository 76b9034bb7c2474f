// Tests of the split-source position text (operators/source_position.h): round trip, damaged and foreign
// positions, and the exact bytes the generator and nexmark readers write, which stored checkpoints hold.
#include "operators/source_position.h"

#include <gtest/gtest.h>

#include <array>

#include "operators/generator_source.h"
#include "operators/nexmark/nexmark_source.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using testing::CollectingOutput;

/// Opens `reader` and polls it once.
Status openAndPollOnce(SourceReader& reader) {
  SLUICE_RETURN_NOT_OK(reader.open({}));
  CollectingOutput out;
  return reader.pollNext(out).status();
}

TEST(SourcePositionTest, RoundTripsEveryValue) {
  const std::array<int64_t, 4> written = {0, -1, INT64_MAX, INT64_MIN};
  const std::string text = encodeSourcePosition("test-v1", 2, 5, written);
  EXPECT_EQ(text, "test-v1 2 5 0 -1 9223372036854775807 -9223372036854775808");
  std::array<int64_t, 4> read{};
  ASSERT_OK(decodeSourcePosition("test-v1", text, "src", 2, 5, read));
  EXPECT_EQ(read, written);
  EXPECT_EQ(encodeSourcePosition("test-v1", 0, 1, std::span<const int64_t>()), "test-v1 0 1");
}

TEST(SourcePositionTest, DamagedPositionIsCorruptionQuotingIt) {
  for (const std::string text : {"test-v1 0 1 5", "test-v1 0 1 5 x", "test-v2 0 1 5 6", "test-v1", "garbage", " ",
                                 "test-v1 0 1 99999999999999999999 6", "test-v1 9999999999 1 5 6"}) {
    std::array<int64_t, 2> values{};
    Status status = decodeSourcePosition("test-v1", text, "src", 0, 1, values);
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << text;
    EXPECT_EQ(status.message(), "source 'src': unreadable saved position '" + text + "'");
  }
}

TEST(SourcePositionTest, PositionOfAnotherSplitIsInvalidArgumentNamingBoth) {
  std::array<int64_t, 1> values{};
  Status status = decodeSourcePosition("test-v1", "test-v1 1 4 7", "src", 2, 4, values);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "source 'src': saved position is for split 1 of 4, this reader reads split 2 of 4");
  status = decodeSourcePosition("test-v1", "test-v1 1 4 7", "src", 1, 3, values);
  EXPECT_EQ(status.message(), "source 'src': saved position is for split 1 of 4, this reader reads split 1 of 3");
}

TEST(SourcePositionTest, SplitRangeCheck) {
  EXPECT_OK(checkSplitInRange("src", 0, 1));
  EXPECT_OK(checkSplitInRange("src", 3, 4));
  for (const auto& [split, numSplits] : {std::pair{1, 1}, std::pair{-1, 2}, std::pair{0, 0}}) {
    Status status = checkSplitInRange("src", split, numSplits);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << split << " of " << numSplits;
    EXPECT_EQ(status.message(), "source 'src': split out of range");
  }
}

/// The generator's position text is fixed: a checkpoint written by any version restores.
TEST(SourcePositionTest, GeneratorPositionBytesAreStable) {
  auto options = std::make_shared<const GeneratorOptions>(
      GeneratorOptions{.sourceId = "gen", .count = 200, .startTime = 1000, .intervalMs = 10, .batchSize = 64});
  GeneratorSourceReader reader(options, 1, 2);  // ids [100, 200)
  ASSERT_OK(openAndPollOnce(reader));
  // Next id 164; largest ts 1000 + 163 * 10; watermark one below it.
  EXPECT_EQ(reader.snapshotPosition(), "generator-v1 1 2 164 2630 2629");

  GeneratorSourceReader restored(options, 1, 2);
  ASSERT_OK(restored.restorePosition("generator-v1 1 2 164 2630 2629"));
  EXPECT_EQ(restored.recordsRead(), 64);
  EXPECT_EQ(restored.snapshotPosition(), "generator-v1 1 2 164 2630 2629");
  EXPECT_EQ(restored.restorePosition("generator-v1 1 2 164 2630").code(), StatusCode::kCorruption);
  Status outside = restored.restorePosition("generator-v1 1 2 99 0 0");
  EXPECT_EQ(outside.code(), StatusCode::kCorruption);
  EXPECT_EQ(outside.message(), "source 'gen': saved position 99 lies outside ids [100, 200)");
}

/// Likewise the nexmark source's: version, split, next event number, records read, watermark state.
TEST(SourcePositionTest, NexmarkPositionBytesAreStable) {
  auto options = std::make_shared<const NexmarkSourceOptions>(
      NexmarkSourceOptions{.sourceId = "nexmark", .events = 1000, .batchSize = 100});
  NexmarkSourceReader reader(options, 1, 3);  // event numbers 1, 4, 7, ...
  ASSERT_OK(openAndPollOnce(reader));
  const int64_t maxEventTime = nexmark::Generator(options->generator).timestampOf(298);
  const std::string expected =
      "nexmark-v1 1 3 301 100 " + std::to_string(maxEventTime) + " " + std::to_string(maxEventTime - 1);
  EXPECT_EQ(reader.snapshotPosition(), expected);

  NexmarkSourceReader restored(options, 1, 3);
  ASSERT_OK(restored.restorePosition(expected));
  EXPECT_EQ(restored.nextEventNumber(), 301);
  EXPECT_EQ(restored.recordsRead(), 100);
  EXPECT_EQ(restored.snapshotPosition(), expected);
  Status foreign = restored.restorePosition("nexmark-v1 0 3 300 100 0 0");
  EXPECT_EQ(foreign.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(foreign.message(), "source 'nexmark': saved position is for split 0 of 3, this reader reads split 1 of 3");
  NexmarkSourceReader outOfRange(options, 3, 3);
  EXPECT_EQ(outOfRange.restorePosition(expected).message(), "source 'nexmark': split out of range");
}

}  // namespace
}  // namespace sluice
