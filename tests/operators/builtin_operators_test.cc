#include "operators/builtin_operators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/job/node_factory.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using testing::CollectingOutput;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

NodeSpec spec(NodeRole role, const std::string& yaml) {
  NodeSpec result;
  result.role = role;
  result.options = YAML::Load(yaml);
  result.id = result.options["id"].as<std::string>();
  if (result.options["from"].IsDefined()) {
    for (const auto& from : result.options["from"]) result.from.push_back(parseStreamRef(from.as<std::string>()));
  }
  return result;
}

class BuiltinOperatorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinOperators();
    registerBuiltinOperators();  // idempotent
    context_.config = &config_;
    context_.workingDirectory = testing::testDataDir();
  }

  Result<PlannedNode> plan(const NodeSpec& nodeSpec, const std::vector<StreamInfo>& inputs = {}) {
    SLUICE_ASSIGN_OR_RETURN(NodeFactory factory, NodeRegistry::instance().lookup(nodeSpec));
    return factory(nodeSpec, inputs, context_);
  }

  Configuration config_;
  PlanContext context_;
};

constexpr const char* kNexmarkSource = R"(
id: events
type: file
format: jsonl
path: nexmark/events.jsonl
discriminator: type
kinds:
  bid: { schema: { auction: int64, bidder: int64, price: int64, dateTime: timestamp }, event_time: dateTime }
  person: { schema: { id: int64, name: string, dateTime: timestamp }, event_time: dateTime }
watermark: { max_out_of_orderness: 1500ms }
)";

TEST_F(BuiltinOperatorsTest, FileSourceFromYaml) {
  ASSERT_OK(config_.set("sluice.source.batch-size", "1000"));
  ASSERT_OK_AND_ASSIGN(PlannedNode node, plan(spec(NodeRole::kSource, kNexmarkSource)));
  EXPECT_EQ(node.role, NodeRole::kSource);
  ASSERT_EQ(node.outputs.size(), 2u);
  EXPECT_EQ(node.outputs["bid"].schema->toString(), "auction:int64, bidder:int64, price:int64, dateTime:timestamp");
  EXPECT_EQ(node.outputs["bid"].eventTimeIndex, 3);
  EXPECT_EQ(node.outputs["person"].eventTimeIndex, 2);

  auto reader = node.createReader(0, 1);
  ASSERT_OK(reader->open({}));
  CollectingOutput out;
  ASSERT_OK_AND_ASSIGN(bool more, reader->pollNext(out));
  EXPECT_TRUE(more);
  int64_t rows = 0;
  for (const auto& [kind, batches] : out.sides) {
    for (const auto& batch : batches) rows += batch.numRows();
  }
  EXPECT_EQ(rows, 1000);  // the configured batch size
  ASSERT_FALSE(out.watermarks.empty());
}

TEST_F(BuiltinOperatorsTest, FileSourceErrors) {
  auto error = [&](const std::string& yaml) { return plan(spec(NodeRole::kSource, yaml)).status().message(); };
  EXPECT_EQ(error("{id: events, type: file, path: /x/y.jsonl, schema: {a: int64}}"),
            "source 'events': cannot open '/x/y.jsonl': No such file or directory");
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: int64}, formt: csv}"),
              HasSubstr("source 'events': unknown option 'formt'"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: int65}}"),
              HasSubstr("field 'a' has unknown type 'int65'"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: string}, event_time: a}"),
              HasSubstr("event_time: field 'a' must be int64 or timestamp"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl}"), HasSubstr("either 'schema'"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, kinds: {bid: {schema: {a: int64}}}}"),
              HasSubstr("'kinds' needs 'discriminator'"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, discriminator: type, "
                    "kinds: {bid: {schema: {a: int64}, evnt_time: a}}}"),
              HasSubstr("source 'events': kinds: bid: unknown option 'evnt_time'"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: int64}, "
                    "watermark: {max_out_of_orderness: soon}}"),
              HasSubstr("source 'events': watermark: option 'max_out_of_orderness' must be a duration"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: int64}, on_error: ignore}"),
              HasSubstr("on_error: expected fail or skip"));
  EXPECT_THAT(error("{id: events, type: file, path: nexmark/events.jsonl, schema: {a: int64}, format: xml}"),
              HasSubstr("unknown format 'xml'"));
}

TEST_F(BuiltinOperatorsTest, CsvSourceWithKinds) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node, plan(spec(NodeRole::kSource, R"(
id: payments
type: file
format: csv
path: payments/events.csv
skip_prefixes: ["type", "#"]
kinds:
  T: { schema: { txn_id: uint64, ts_ms: timestamp, account_id: uint64, merchant_id: uint64, mcc: int64,
                 amount_minor: int64, country: string, lat_e6: int64, lon_e6: int64, device_id: uint64,
                 channel: string }, event_time: ts_ms }
  L: { schema: { txn_id: uint64, ts_ms: timestamp, account_id: uint64, merchant_id: uint64, label: int64 },
       event_time: ts_ms }
)")));
  int64_t transactions = 0;
  int64_t labels = 0;
  for (int split = 0; split < 2; ++split) {
    auto reader = node.createReader(split, 2);
    ASSERT_OK(reader->open({}));
    CollectingOutput out;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, reader->pollNext(out));
      if (!more) break;
    }
    for (const auto& batch : out.sides["T"]) transactions += batch.numRows();
    for (const auto& batch : out.sides["L"]) labels += batch.numRows();
  }
  EXPECT_EQ(transactions, 53997);
  EXPECT_EQ(labels, 443);
}

TEST_F(BuiltinOperatorsTest, GeneratorSource) {
  ASSERT_OK_AND_ASSIGN(PlannedNode node, plan(spec(NodeRole::kSource,
                                                   "{id: gen, type: generator, count: 10, keys: 3, start_time: 100, "
                                                   "interval_ms: 5, batch_size: 4}")));
  EXPECT_EQ(node.outputs[""].schema->toString(), "id:int64, ts:timestamp, value:int64, key:int64");
  EXPECT_EQ(node.outputs[""].eventTimeIndex, 1);
  auto reader = node.createReader(0, 1);
  ASSERT_OK(reader->open({}));
  CollectingOutput out;
  ASSERT_OK_AND_ASSIGN(bool more, reader->pollNext(out));
  EXPECT_TRUE(more);
  ASSERT_EQ(out.numRows(), 4);
  EXPECT_EQ(out.batches[0].column(1)->int64s()[3], 115);
  EXPECT_EQ(out.batches[0].column(3)->int64s()[3], 0);
  EXPECT_THAT(plan(spec(NodeRole::kSource, "{id: gen, type: generator, count: -1}")).status().message(),
              HasSubstr("source 'gen': count must not be negative"));
}

TEST_F(BuiltinOperatorsTest, MapNode) {
  StreamInfo bids{
      *Schema::make({{"auction", DataType::kInt64}, {"price", DataType::kInt64}, {"dateTime", DataType::kTimestamp}}),
      2};
  ASSERT_OK_AND_ASSIGN(
      PlannedNode node,
      plan(
          spec(
              NodeRole::kOperator,
              R"({ id: q2, from: [events.bid], filter: "auction % 123 = 0", select: { auction: auction, price: price } })"),
          {bids}));
  EXPECT_EQ(node.outputs[""].schema->toString(), "auction:int64, price:int64");
  EXPECT_EQ(node.outputs[""].eventTimeIndex, -1);
  ASSERT_EQ(node.inputs.size(), 1u);
  EXPECT_EQ(node.inputs[0].kind, PartitionKind::kForward);
  EXPECT_NE(node.createOperator(), nullptr);

  ASSERT_OK_AND_ASSIGN(
      node, plan(spec(NodeRole::kOperator, "{id: q0, from: [events.bid], select: [price, dateTime]}"), {bids}));
  EXPECT_EQ(node.outputs[""].eventTimeIndex, 1);

  auto error = [&](const std::string& yaml, std::vector<StreamInfo> inputs) {
    return plan(spec(NodeRole::kOperator, yaml), inputs).status().message();
  };
  EXPECT_THAT(error(R"({id: q2, from: [events.bid], filter: "auctoin % 123 = 0"})", {bids}),
              HasSubstr("node 'q2': filter: at column 1: unknown field 'auctoin' (fields: "));
  EXPECT_THAT(error("{id: q2, from: [events.bid], filter: 'price > 1', slect: {a: price}}", {bids}),
              HasSubstr("node 'q2': unknown option 'slect'"));
  EXPECT_THAT(error("{id: q2, from: [a, b], filter: 'price > 1'}", {bids, bids}),
              HasSubstr("node 'q2': a map node takes exactly one input, got 2"));
}

TEST_F(BuiltinOperatorsTest, Sinks) {
  testing::TempDir dir;
  context_.workingDirectory = dir.path().string();
  StreamInfo input{*Schema::make({{"a", DataType::kInt64}}), -1};
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       plan(spec(NodeRole::kSink, "{id: out, from: [q], type: file, path: results}"), {input}));
  EXPECT_EQ(node.role, NodeRole::kSink);
  EXPECT_TRUE(node.outputs.empty());
  ASSERT_TRUE(node.prepare);
  ASSERT_OK(node.prepare(false));
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("results")));
  testing::writeFile(dir.file("results/part-0-0.jsonl"), "");
  EXPECT_EQ(node.prepare(false).message(), "sink 'out': output directory '" + dir.file("results") +
                                               "' already holds committed files (part-*); choose an empty directory");
  EXPECT_NE(node.createOperator(), nullptr);

  ASSERT_OK_AND_ASSIGN(node, plan(spec(NodeRole::kSink, "{id: p, from: [q], type: print}"), {input}));
  EXPECT_NE(node.createOperator(), nullptr);
  ASSERT_OK_AND_ASSIGN(node, plan(spec(NodeRole::kSink, "{id: d, from: [q], type: discard}"), {input}));
  auto discard = node.createOperator();
  CollectingOutput out;
  RecordBatchBuilder builder(input.schema);
  builder.column(0).appendInt64(1);
  ASSERT_OK(discard->processBatch(0, builder.finish(), out));
  EXPECT_EQ(discard->recordsWritten(), 1);

  EXPECT_THAT(plan(spec(NodeRole::kSink, "{id: out, from: [q], type: file}"), {input}).status().message(),
              HasSubstr("sink 'out': missing option 'path'"));
  EXPECT_THAT(
      plan(spec(NodeRole::kSink, "{id: out, from: [q], type: file, path: x, format: xml}"), {input}).status().message(),
      HasSubstr("unknown format 'xml'"));
  EXPECT_THAT(plan(spec(NodeRole::kSink, "{id: p, from: [q], type: print, path: x}"), {input}).status().message(),
              HasSubstr("sink 'p': unknown option 'path'"));
}

}  // namespace
}  // namespace sluice
