// Tests of the `nexmark` source: schemas, splits, restore, options, and agreement with the JSON-lines writer.
#include "operators/nexmark/nexmark_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "operators/builtin_operators.h"
#include "runtime/job/node_factory.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using testing::CollectingOutput;
using ::testing::HasSubstr;

Status drain(SourceReader& reader, Output& out) {
  while (true) {
    auto more = reader.pollNext(out);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
  }
}

std::shared_ptr<NexmarkSourceOptions> options(int64_t events, int64_t batchSize = 97) {
  auto result = std::make_shared<NexmarkSourceOptions>();
  result->sourceId = "events";
  result->events = events;
  result->batchSize = batchSize;
  result->generator.seed = 7;
  return result;
}

/// Row `row` of `batch` as the JSON line nexmark::appendJsonLine writes for kind `kind`.
std::string jsonRow(const std::string& kind, const RecordBatch& batch, int64_t row) {
  std::string line = "{\"type\":\"" + kind + "\"";
  const Schema& schema = *batch.schema();
  for (int column = 0; column < schema.numFields(); ++column) {
    line += ",\"" + schema.field(column).name + "\":";
    const Column& values = *batch.column(column);
    if (values.type() == DataType::kString) {
      line += "\"" + std::string(values.stringAt(row)) + "\"";
    } else {
      line += std::to_string(values.int64s()[row]);
    }
  }
  return line + "}\n";
}

/// Every row a reader emitted, as JSON lines, in emission order per kind (person, auction, bid).
std::vector<std::string> rowsOf(const CollectingOutput& out) {
  std::vector<std::string> rows;
  for (const auto& [kind, batches] : out.sides) {
    for (const auto& batch : batches) {
      for (int64_t row = 0; row < batch.numRows(); ++row) rows.push_back(jsonRow(kind, batch, row));
    }
  }
  return rows;
}

std::vector<std::string> readAll(std::shared_ptr<const NexmarkSourceOptions> sourceOptions, int numSplits) {
  std::vector<std::string> rows;
  for (int split = 0; split < numSplits; ++split) {
    NexmarkSourceReader reader(sourceOptions, split, numSplits);
    EXPECT_OK(reader.open({}));
    CollectingOutput out;
    EXPECT_OK(drain(reader, out));
    EXPECT_TRUE(out.batches.empty());
    EXPECT_FALSE(out.watermarks.empty());
    EXPECT_TRUE(std::is_sorted(out.watermarks.begin(), out.watermarks.end()));
    auto splitRows = rowsOf(out);
    rows.insert(rows.end(), splitRows.begin(), splitRows.end());
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST(NexmarkSourceTest, EmitsTheGeneratorsEventsWithTheExampleSchemas) {
  auto sourceOptions = options(1000);
  NexmarkSourceReader reader(sourceOptions, 0, 1);
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_EQ(reader.recordsRead(), 1000);
  EXPECT_EQ(reader.nextEventNumber(), 1000);
  std::map<std::string, std::vector<std::string>> byKind;
  for (const auto& [kind, batches] : out.sides) {
    for (const auto& batch : batches) {
      EXPECT_EQ(batch.eventTimeIndex(), batch.schema()->indexOf("dateTime").value());
      EXPECT_EQ(batch.schema()->field(batch.eventTimeIndex()).type, DataType::kTimestamp);
      for (int64_t row = 0; row < batch.numRows(); ++row) byKind[kind].push_back(jsonRow(kind, batch, row));
    }
  }
  ASSERT_EQ(byKind["person"].size(), 20u);
  ASSERT_EQ(byKind["auction"].size(), 60u);
  ASSERT_EQ(byKind["bid"].size(), 920u);
  // Field for field what the file generator writes for the same seed (same names, order and values).
  nexmark::Generator generator(sourceOptions->generator);
  std::map<std::string, size_t> next;
  for (int64_t n = 0; n < 1000; ++n) {
    std::string expected;
    const nexmark::EventKind eventKind = nexmark::eventKindOf(n);
    const std::string kind = nexmarkKinds()[static_cast<int>(eventKind)].name;
    if (eventKind == nexmark::EventKind::kPerson) nexmark::appendJsonLine(expected, generator.person(n));
    if (eventKind == nexmark::EventKind::kAuction) nexmark::appendJsonLine(expected, generator.auction(n));
    if (eventKind == nexmark::EventKind::kBid) nexmark::appendJsonLine(expected, generator.bid(n));
    ASSERT_EQ(byKind[kind][next[kind]++], expected) << "event " << n;
  }
  // In-order event times: the last watermark trails the last event time by 1 ms (bound 0).
  EXPECT_EQ(out.watermarks.back(), generator.timestampOf(999) - 1);
}

TEST(NexmarkSourceTest, UnionOverSplitsIsTheSameForAnyParallelism) {
  auto sourceOptions = options(2503);
  const auto one = readAll(sourceOptions, 1);
  EXPECT_EQ(one.size(), 2503u);
  EXPECT_EQ(readAll(sourceOptions, 3), one);
  EXPECT_EQ(readAll(sourceOptions, 4), one);
  EXPECT_EQ(readAll(options(2503, 4096), 2), one);
}

TEST(NexmarkSourceTest, SplitsGenerateEveryPthEventNumber) {
  auto sourceOptions = options(10);
  NexmarkSourceReader reader(sourceOptions, 2, 3);  // event numbers 2, 5, 8
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK(drain(reader, out));
  EXPECT_EQ(reader.recordsRead(), 3);
  EXPECT_EQ(reader.nextEventNumber(), 11);
  NexmarkSourceReader empty(options(2), 2, 3);
  ASSERT_OK(empty.open({}));
  CollectingOutput none;
  ASSERT_OK(drain(empty, none));
  EXPECT_EQ(empty.recordsRead(), 0);
  EXPECT_TRUE(none.sides.empty());
}

TEST(NexmarkSourceTest, RestoreResumesExactly) {
  auto sourceOptions = options(3000, 50);
  NexmarkSourceReader whole(sourceOptions, 1, 3);
  ASSERT_OK(whole.open({}));
  CollectingOutput all;
  ASSERT_OK(drain(whole, all));

  NexmarkSourceReader first(sourceOptions, 1, 3);
  ASSERT_OK(first.open({}));
  CollectingOutput before;
  for (int poll = 0; poll < 7; ++poll) ASSERT_OK(first.pollNext(before).status());
  EXPECT_EQ(first.nextEventNumber(), 1 + 7 * 50 * 3);
  const std::string position = first.snapshotPosition();
  NexmarkSourceReader restored(sourceOptions, 1, 3);
  ASSERT_OK(restored.restorePosition(position));
  ASSERT_OK(restored.open({}));
  EXPECT_EQ(restored.snapshotPosition(), position);
  CollectingOutput after;
  ASSERT_OK(drain(restored, after));
  EXPECT_EQ(restored.recordsRead(), whole.recordsRead());

  // Per kind, the rows before the snapshot followed by those after it are the uninterrupted rows.
  std::map<std::string, std::vector<std::string>> expected;
  std::map<std::string, std::vector<std::string>> actual;
  for (const auto* output : {&before, &after}) {
    for (const auto& [kind, batches] : output->sides) {
      for (const auto& batch : batches) {
        for (int64_t row = 0; row < batch.numRows(); ++row) actual[kind].push_back(jsonRow(kind, batch, row));
      }
    }
  }
  for (const auto& [kind, batches] : all.sides) {
    for (const auto& batch : batches) {
      for (int64_t row = 0; row < batch.numRows(); ++row) expected[kind].push_back(jsonRow(kind, batch, row));
    }
  }
  EXPECT_EQ(actual, expected);
  ASSERT_FALSE(after.watermarks.empty());
  EXPECT_GT(after.watermarks.front(), before.watermarks.back());
  EXPECT_EQ(after.watermarks.back(), all.watermarks.back());
}

TEST(NexmarkSourceTest, BadPositionsAreRejected) {
  auto sourceOptions = options(3000);
  NexmarkSourceReader reader(sourceOptions, 1, 3);
  EXPECT_EQ(reader.restorePosition("nexmark-v1 0 3 0 0 0 0").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.restorePosition("nexmark-v1 1 3 5 0 0 0").code(), StatusCode::kCorruption);  // 5 % 3 != 1
  EXPECT_EQ(reader.restorePosition("nexmark-v1 1 3 9001 0 0 0").code(), StatusCode::kCorruption);
  EXPECT_EQ(reader.restorePosition("generator-v1 1 3 4 0 0").code(), StatusCode::kCorruption);
  EXPECT_EQ(reader.restorePosition("garbage").code(), StatusCode::kCorruption);
  EXPECT_OK(reader.restorePosition("nexmark-v1 1 3 3001 1000 0 0"));  // exhausted
  ASSERT_OK(reader.open({}));
  CollectingOutput out;
  ASSERT_OK_AND_ASSIGN(bool more, reader.pollNext(out));
  EXPECT_FALSE(more);
}

TEST(RecycledColumnTest, HeldBatchesStayIntactAndReleasedStorageIsReused) {
  RecycledColumn column(DataType::kString);
  column.appendString("first");
  column.appendString("batch");
  ColumnPtr held = column.finish();
  const uint8_t* heldChars = reinterpret_cast<const uint8_t*>(&held->stringAt(0)[0]);
  column.appendString("second");
  ColumnPtr other = column.finish();
  EXPECT_EQ(held->length(), 2);
  EXPECT_EQ(held->stringAt(0), "first");
  EXPECT_EQ(held->stringAt(1), "batch");
  EXPECT_EQ(other->length(), 1);
  EXPECT_EQ(other->stringAt(0), "second");
  held.reset();
  other.reset();
  // The writer took its next storage when `other` was finished; the one after is the first, released one.
  column.appendString("third");
  ColumnPtr third = column.finish();
  column.appendString("fourth");
  ColumnPtr reused = column.finish();
  EXPECT_EQ(third->stringAt(0), "third");
  EXPECT_EQ(reused->stringAt(0), "fourth");
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(&reused->stringAt(0)[0]), heldChars);

  RecycledColumn numbers(DataType::kInt64);
  numbers.appendInt64(-5);
  numbers.appendInt64(7);
  ColumnPtr values = numbers.finish();
  ASSERT_EQ(values->length(), 2);
  EXPECT_EQ(values->int64s()[0], -5);
  EXPECT_EQ(values->int64s()[1], 7);
  EXPECT_EQ(numbers.finish()->length(), 0);
}

class NexmarkSourceFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinOperators();
    context_.config = &config_;
  }
  Result<PlannedNode> plan(const std::string& yaml) {
    NodeSpec spec;
    spec.role = NodeRole::kSource;
    spec.options = YAML::Load(yaml);
    spec.id = spec.options["id"].as<std::string>();
    SLUICE_ASSIGN_OR_RETURN(NodeFactory factory, NodeRegistry::instance().lookup(spec));
    return factory(spec, {}, context_);
  }
  Configuration config_;
  PlanContext context_;
};

TEST_F(NexmarkSourceFactoryTest, PlansThreeKindsFromYaml) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node, plan(R"yaml(
id: events
type: nexmark
events: 120
rate: 1000
seed: 9
start_time: 0
batch_size: 16
rate_limit: 1000000
watermark: {max_out_of_orderness: 2s}
)yaml"));
  ASSERT_EQ(node.outputs.size(), 3u);
  EXPECT_EQ(node.outputs.at("bid").schema->toString(), nexmarkKinds()[2].schema->toString());
  EXPECT_EQ(node.outputs.at("person").eventTimeIndex, 6);
  auto reader = node.createReader(0, 1);
  ASSERT_OK(reader->open({}));
  CollectingOutput out;
  ASSERT_OK(drain(*reader, out));
  EXPECT_EQ(reader->recordsRead(), 120);
  // rate 1000: event 119 at 119 ms; bound 2 s.
  EXPECT_TRUE(out.watermarks.empty() || out.watermarks.back() <= 119 - 2000 - 1);
  EXPECT_EQ(out.sides.at("person").front().column(6)->int64s()[0], 0);
}

TEST_F(NexmarkSourceFactoryTest, BadOptionsGiveOneLineErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"events: -1", "events must not be negative"},
      {"events: many", "events"},
      {"rate: 0", "rate must be positive"},
      {"rate_limit: 0", "rate_limit must be positive"},
      {"batch_size: 0", "batch_size must be positive"},
      {"start_time: -5", "start_time must not be negative"},
      {"evnts: 5", "evnts"},
      {"watermark: {max_out_of_orderness: -1s}", "max_out_of_orderness"},
  };
  for (const auto& [option, message] : cases) {
    auto result = plan("{id: events, type: nexmark, " + option + "}");
    ASSERT_FALSE(result.ok()) << option;
    EXPECT_THAT(result.status().message(), HasSubstr(message)) << option;
    EXPECT_THAT(result.status().message(), HasSubstr("events")) << option;
    EXPECT_EQ(result.status().message().find('\n'), std::string::npos) << result.status().message();
  }
}

}  // namespace
}  // namespace sluice
