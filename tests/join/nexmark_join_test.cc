// Runs the Nexmark sample through the join operators directly (without the
// runtime) and compares q3 and q8 with the expected files, at simulated
// parallelism 1 and 3 (rows routed to instances by key group, as the hash
// exchange does) and on both state backends.
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "operators/builtin_operators.h"
#include "operators/join/join_operators.h"
#include "runtime/data/key_group.h"
#include "tests/join/join_test_support.h"
#include "tests/testing/jsonl_compare.h"
#include "tests/testing/status_matchers.h"

namespace sluice {
namespace {

using testing::BackendFactory;
using testing::kTestMaxParallelism;

constexpr int64_t kOutOfOrderness = 1500;
constexpr size_t kLinesPerChunk = 1000;

/// The sample's persons and auctions, in file order, as chunks of batches
/// with the schemas of examples/nexmark/q0.yaml.
struct NexmarkInput {
  StreamInfo persons;
  StreamInfo auctions;
  struct Chunk {
    RecordBatch persons;
    RecordBatch auctions;
    int64_t watermark;  // after the chunk: largest dateTime so far - 1500
  };
  std::vector<Chunk> chunks;
};

const NexmarkInput& nexmarkInput() {
  static const NexmarkInput input = [] {
    NexmarkInput result;
    result.persons = StreamInfo{*Schema::make({{"id", DataType::kInt64},
                                               {"name", DataType::kString},
                                               {"emailAddress", DataType::kString},
                                               {"creditCard", DataType::kString},
                                               {"city", DataType::kString},
                                               {"state", DataType::kString},
                                               {"dateTime", DataType::kTimestamp},
                                               {"extra", DataType::kString}}),
                                6};
    result.auctions = StreamInfo{*Schema::make({{"id", DataType::kInt64},
                                                {"itemName", DataType::kString},
                                                {"description", DataType::kString},
                                                {"initialBid", DataType::kInt64},
                                                {"reserve", DataType::kInt64},
                                                {"dateTime", DataType::kTimestamp},
                                                {"expires", DataType::kTimestamp},
                                                {"seller", DataType::kInt64},
                                                {"category", DataType::kInt64},
                                                {"extra", DataType::kString}}),
                                 5};
    std::ifstream file(testing::testDataDir() + "/nexmark/events.jsonl");
    std::string line;
    RecordBatchBuilder persons(result.persons.schema, 6);
    RecordBatchBuilder auctions(result.auctions.schema, 5);
    int64_t maxTime = kMinWatermark;
    size_t lines = 0;
    auto appendRow = [](RecordBatchBuilder& builder, const Schema& schema, const nlohmann::json& event) {
      for (int c = 0; c < schema.numFields(); ++c) {
        const nlohmann::json& value = event.at(schema.field(c).name);
        if (schema.field(c).type == DataType::kString) {
          builder.column(c).appendString(value.get<std::string>());
        } else {
          builder.column(c).appendInt64(value.get<int64_t>());
        }
      }
    };
    while (std::getline(file, line)) {
      nlohmann::json event = nlohmann::json::parse(line);
      maxTime = std::max(maxTime, event.at("dateTime").get<int64_t>());
      if (event.at("type") == "person") appendRow(persons, *result.persons.schema, event);
      if (event.at("type") == "auction") appendRow(auctions, *result.auctions.schema, event);
      if (++lines % kLinesPerChunk == 0) {
        result.chunks.push_back({persons.finish(), auctions.finish(), maxTime - kOutOfOrderness});
      }
    }
    result.chunks.push_back({persons.finish(), auctions.finish(), maxTime - kOutOfOrderness});
    return result;
  }();
  return input;
}

/// Keeps the rows of `batch` where `keep(row)` holds (the map nodes of the example jobs).
template <typename Predicate>
RecordBatch filterRows(const RecordBatch& batch, Predicate keep) {
  std::vector<uint8_t> mask(static_cast<size_t>(batch.numRows()));
  for (int64_t row = 0; row < batch.numRows(); ++row) mask[row] = keep(row) ? 1 : 0;
  return batch.filter(mask);
}

std::vector<std::string> toJsonLines(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> lines;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      nlohmann::json object = nlohmann::json::object();
      for (int c = 0; c < batch.numColumns(); ++c) {
        const Column& column = *batch.column(c);
        const std::string& name = batch.schema()->field(c).name;
        if (column.type() == DataType::kString) {
          object[name] = std::string(column.stringAt(row));
        } else {
          object[name] = column.int64s()[row];
        }
      }
      lines.push_back(object.dump());
    }
  }
  return lines;
}

/// A join node run as `parallelism` operator instances, each with its own
/// backend for its key-group range; batches are split by key group.
class SimulatedJoin {
 public:
  SimulatedJoin(const PlannedNode& node, int parallelism, BackendFactory& backends) : node_(node) {
    for (int subtask = 0; subtask < parallelism; ++subtask) {
      backendsBySubtask_.push_back(backends.open(KeyGroupRange::forSubtask(subtask, parallelism, kTestMaxParallelism)));
      harnesses_.push_back(std::make_unique<testing::OperatorHarness>(
          node.createOperator(), testing::joinContext(backendsBySubtask_.back().get(), subtask, parallelism)));
    }
  }

  Status open() {
    for (auto& harness : harnesses_) SLUICE_RETURN_NOT_OK(harness->open());
    return Status::OK();
  }

  Status processBatch(const RecordBatch& batch, int input) {
    const int parallelism = static_cast<int>(harnesses_.size());
    std::vector<std::vector<int32_t>> rows(harnesses_.size());
    const std::vector<uint64_t> hashes = hashKeys(batch, node_.inputs[input].keyColumns);
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      int keyGroup = keyGroupOf(hashes[row], kTestMaxParallelism);
      rows[subtaskForKeyGroup(keyGroup, parallelism, kTestMaxParallelism)].push_back(static_cast<int32_t>(row));
    }
    for (size_t subtask = 0; subtask < harnesses_.size(); ++subtask) {
      if (!rows[subtask].empty())
        SLUICE_RETURN_NOT_OK(harnesses_[subtask]->processBatch(batch.take(rows[subtask]), input));
    }
    return Status::OK();
  }

  Status processWatermark(int64_t watermark) {
    for (auto& harness : harnesses_) SLUICE_RETURN_NOT_OK(harness->processWatermark(watermark));
    return Status::OK();
  }

  Status endInput() {
    for (auto& harness : harnesses_) SLUICE_RETURN_NOT_OK(harness->endInput());
    return Status::OK();
  }

  std::vector<RecordBatch> output() const {
    std::vector<RecordBatch> batches;
    for (const auto& harness : harnesses_) {
      for (const RecordBatch& batch : harness->output().batches) batches.push_back(batch);
    }
    return batches;
  }

 private:
  const PlannedNode& node_;
  std::vector<std::unique_ptr<KeyedStateBackend>> backendsBySubtask_;
  std::vector<std::unique_ptr<testing::OperatorHarness>> harnesses_;
};

class NexmarkJoinTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  NexmarkJoinTest() : backends_(std::get<0>(GetParam())) {}

  /// Feeds every chunk (auctions on input `auctionInput`), then ends the input.
  void run(const PlannedNode& node, int auctionInput, const std::function<RecordBatch(const RecordBatch&)>& persons,
           const std::function<RecordBatch(const RecordBatch&)>& auctions, const std::string& expectedFile) {
    SimulatedJoin join(node, std::get<1>(GetParam()), backends_);
    ASSERT_OK(join.open());
    for (const NexmarkInput::Chunk& chunk : nexmarkInput().chunks) {
      ASSERT_OK(join.processBatch(persons(chunk.persons), 1 - auctionInput));
      ASSERT_OK(join.processBatch(auctions(chunk.auctions), auctionInput));
      ASSERT_OK(join.processWatermark(chunk.watermark));
    }
    ASSERT_OK(join.endInput());
    auto expected = testing::readLines(testing::testDataDir() + "/nexmark/expected/" + expectedFile);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(testing::compareJsonRows(expected, toJsonLines(join.output())), "");
  }

  /// Plans examples/nexmark/<name>.yaml through the node registry and runs the
  /// sample through its operator nodes: map nodes straight from the source
  /// kinds, then the one join node, whose output goes to the sink.
  void runExample(const std::string& name, const std::string& expectedFile) {
    registerBuiltinOperators();
    registerJoinOperators();
    const std::filesystem::path sourceDir = std::filesystem::path(testing::testDataDir()) / ".." / "..";
    testing::TempDir output;
    ASSERT_OK_AND_ASSIGN(JobSpec job, loadJobSpec((sourceDir / "examples" / "nexmark" / (name + ".yaml")).string(),
                                                  {{"events", testing::testDataDir() + "/nexmark/events.jsonl"},
                                                   {"output", output.file("out")}}));
    PlanContext context{&job, &job.config, sourceDir.string()};
    std::map<std::string, StreamInfo> streams;
    std::map<std::string, PlannedNode> nodes;
    const NodeSpec* joinSpec = nullptr;
    for (const NodeSpec* spec : job.topologicalOrder()) {
      if (spec->role == NodeRole::kSink) {
        ASSERT_NE(joinSpec, nullptr);
        EXPECT_EQ(spec->from.at(0).toString(), joinSpec->id) << "the join feeds the sink";
        continue;
      }
      std::vector<StreamInfo> inputs;
      for (const StreamRef& from : spec->from) inputs.push_back(streams.at(from.toString()));
      ASSERT_OK_AND_ASSIGN(NodeFactory factory, NodeRegistry::instance().lookup(*spec));
      ASSERT_OK_AND_ASSIGN(PlannedNode node, factory(*spec, inputs, context));
      for (const auto& [tag, info] : node.outputs) streams[tag.empty() ? spec->id : spec->id + "." + tag] = info;
      if (spec->from.size() == 2) joinSpec = spec;
      nodes.emplace(spec->id, std::move(node));
    }
    ASSERT_NE(joinSpec, nullptr);
    EXPECT_EQ(*streams.at("events.person").schema, *nexmarkInput().persons.schema);
    EXPECT_EQ(*streams.at("events.auction").schema, *nexmarkInput().auctions.schema);

    std::map<std::string, std::unique_ptr<Operator>> maps;
    for (const NodeSpec& spec : job.nodes) {
      if (&spec == joinSpec) continue;
      ASSERT_EQ(spec.from.size(), 1u);
      ASSERT_EQ(spec.from[0].node, "events") << spec.id << " must read a source kind";
      maps[spec.id] = nodes.at(spec.id).createOperator();
    }
    SimulatedJoin join(nodes.at(joinSpec->id), std::get<1>(GetParam()), backends_);
    ASSERT_OK(join.open());
    for (const NexmarkInput::Chunk& chunk : nexmarkInput().chunks) {
      std::map<std::string, RecordBatch> batches = {{"events.person", chunk.persons},
                                                    {"events.auction", chunk.auctions}};
      for (auto& [id, map] : maps) {
        testing::CollectingOutput mapped;
        ASSERT_OK(map->processBatch(0, batches.at(job.find(id)->from[0].toString()), mapped));
        std::vector<RecordBatch> nonEmpty;
        for (const RecordBatch& batch : mapped.batches) {
          if (batch.numRows() > 0) nonEmpty.push_back(batch);
        }
        batches[id] = nonEmpty.empty() ? RecordBatch() : RecordBatch::concat(nonEmpty);
      }
      for (size_t input = 0; input < 2; ++input) {
        const RecordBatch& batch = batches.at(joinSpec->from[input].toString());
        if (batch.numRows() > 0) ASSERT_OK(join.processBatch(batch, static_cast<int>(input)));
      }
      ASSERT_OK(join.processWatermark(chunk.watermark));
    }
    ASSERT_OK(join.endInput());
    auto expected = testing::readLines(testing::testDataDir() + "/nexmark/expected/" + expectedFile);
    EXPECT_EQ(testing::compareJsonRows(expected, toJsonLines(join.output())), "");
  }

  BackendFactory backends_;
};

TEST_P(NexmarkJoinTest, Q3LocalItemSuggestion) {
  const NexmarkInput& input = nexmarkInput();
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       testing::planJoin(JoinKind::kRegular,
                                         "{on: {left: [seller], right: [id]}, alias: {left: A, right: P},"
                                         " select: {name: P.name, city: P.city, state: P.state, id: A.id}}",
                                         input.auctions, input.persons, "q3"));
  const std::set<std::string> states = {"OR", "ID", "CA"};
  run(
      node, /*auctionInput=*/0,
      [&](const RecordBatch& batch) {
        const Column& state = *batch.column(5);
        return filterRows(batch, [&](int64_t row) { return states.count(std::string(state.stringAt(row))) > 0; });
      },
      [](const RecordBatch& batch) {
        const int64_t* category = batch.column(8)->int64s();
        return filterRows(batch, [&](int64_t row) { return category[row] == 10; });
      },
      "q3.jsonl");
}

TEST_P(NexmarkJoinTest, Q8MonitorNewUsers) {
  const NexmarkInput& input = nexmarkInput();
  ASSERT_OK_AND_ASSIGN(PlannedNode node,
                       testing::planJoin(JoinKind::kWindow,
                                         "{on: {left: [id], right: [seller]}, window: {tumble: 10s}, distinct: true,"
                                         " select: {id: left.id, name: left.name, starttime: window_start}}",
                                         input.persons, input.auctions, "q8"));
  auto all = [](const RecordBatch& batch) { return batch; };
  run(node, /*auctionInput=*/1, all, all, "q8.jsonl");
}

TEST_P(NexmarkJoinTest, ExampleJobQ3) { runExample("q3", "q3.jsonl"); }

TEST_P(NexmarkJoinTest, ExampleJobQ8) { runExample("q8", "q8.jsonl"); }

INSTANTIATE_TEST_SUITE_P(BackendsAndParallelism, NexmarkJoinTest,
                         ::testing::Combine(::testing::Values("hashmap", "rocksdb"), ::testing::Values(1, 3)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_p" + std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace sluice
