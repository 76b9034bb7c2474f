// Runs the Nexmark sample through the window operators directly (q5, q7, q11)
// at simulated parallelism 1 and 3 and compares with the expected results.
#include <gtest/gtest.h>

#include <simdjson.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "operators/window/window_aggregate_operator.h"
#include "operators/window/window_top_n_operator.h"
#include "runtime/data/key_group.h"
#include "tests/testing/jsonl_compare.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/window/batch_rows.h"

namespace sluice::window {
namespace {

using sluice::testing::OperatorHarness;
using sluice::testing::TempDir;

constexpr int kEventsPerStep = 500;
constexpr int64_t kOutOfOrderness = 1500;

SchemaPtr bidSchema() {
  static SchemaPtr schema = testing::makeSchema({{"auction", DataType::kInt64},
                                                 {"bidder", DataType::kInt64},
                                                 {"price", DataType::kInt64},
                                                 {"channel", DataType::kString},
                                                 {"url", DataType::kString},
                                                 {"dateTime", DataType::kTimestamp},
                                                 {"extra", DataType::kString}});
  return schema;
}

/// The bids of events.jsonl in file order, one batch per kEventsPerStep lines,
/// each with the watermark that follows it (max dateTime so far - 1500).
struct BidStream {
  std::vector<RecordBatch> batches;
  std::vector<int64_t> watermarks;
};

const BidStream& bidStream() {
  static const BidStream stream = [] {
    BidStream result;
    std::ifstream in(std::string(SLUICE_TEST_DATA_DIR) + "/nexmark/events.jsonl");
    EXPECT_TRUE(in.good());
    std::string line;
    RecordBatchBuilder builder(bidSchema(), 5);
    int lines = 0;
    int64_t maxTime = INT64_MIN;
    auto flush = [&] {
      result.batches.push_back(builder.finish());
      result.watermarks.push_back(maxTime - kOutOfOrderness);
    };
    simdjson::ondemand::parser parser;
    while (std::getline(in, line)) {
      simdjson::padded_string padded(line);
      simdjson::ondemand::document event = parser.iterate(padded);
      auto integer = [&event](const char* field) { return event[field].get_int64().value(); };
      auto text = [&event](const char* field) { return std::string_view(event[field].get_string().value()); };
      const int64_t time = integer("dateTime");
      maxTime = std::max(maxTime, time);
      if (text("type") == "bid") {
        builder.column(0).appendInt64(integer("auction"));
        builder.column(1).appendInt64(integer("bidder"));
        builder.column(2).appendInt64(integer("price"));
        builder.column(3).appendString(text("channel"));
        builder.column(4).appendString(text("url"));
        builder.column(5).appendInt64(time);
        builder.column(6).appendString(text("extra"));
      }
      if (++lines % kEventsPerStep == 0) flush();
    }
    if (builder.numRows() > 0) flush();
    return result;
  }();
  return stream;
}

/// One operator at `parallelism` subtasks, its input hash-partitioned by
/// `hashColumns` by key group (each subtask with a backend owning its range),
/// or a single global subtask when `hashColumns` is empty.
class Stage {
 public:
  Stage(std::function<std::unique_ptr<Operator>()> create, std::vector<int> hashColumns, int parallelism)
      : hashColumns_(std::move(hashColumns)), parallelism_(hashColumns_.empty() ? 1 : parallelism) {
    for (int subtask = 0; subtask < parallelism_; ++subtask) {
      OperatorContext context;
      context.subtaskIndex = subtask;
      context.parallelism = parallelism_;
      if (!hashColumns_.empty()) {
        KeyGroupRange range = KeyGroupRange::forSubtask(subtask, parallelism_, kDefaultMaxParallelism);
        backends_.push_back(testing::makeBackend(subtask % 2 == 0 ? "hashmap" : "rocksdb",
                                                 directory_.file("subtask-" + std::to_string(subtask)), range.first,
                                                 range.last));
        context.keyedStateBackend = backends_.back().get();
      }
      harnesses_.push_back(std::make_unique<OperatorHarness>(create(), context));
      EXPECT_OK(harnesses_.back()->open());
      drained_.push_back(0);
    }
  }

  void push(const RecordBatch& batch) {
    if (batch.numRows() == 0) return;
    if (parallelism_ == 1) {
      EXPECT_OK(harnesses_[0]->processBatch(batch));
      return;
    }
    std::vector<uint64_t> hashes = hashKeys(batch, hashColumns_);
    std::vector<std::vector<uint8_t>> masks(parallelism_, std::vector<uint8_t>(batch.numRows(), 0));
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      int keyGroup = keyGroupOf(hashes[row], kDefaultMaxParallelism);
      masks[subtaskForKeyGroup(keyGroup, parallelism_, kDefaultMaxParallelism)][row] = 1;
    }
    for (int subtask = 0; subtask < parallelism_; ++subtask) {
      RecordBatch part = batch.filter(masks[subtask]);
      if (part.numRows() > 0) EXPECT_OK(harnesses_[subtask]->processBatch(part));
    }
  }

  /// Advances every subtask to `watermark` (kMaxWatermark ends the input) and
  /// returns what they emitted since the last call.
  std::vector<RecordBatch> advance(int64_t watermark) {
    std::vector<RecordBatch> emitted;
    for (int subtask = 0; subtask < parallelism_; ++subtask) {
      EXPECT_OK(watermark == kMaxWatermark ? harnesses_[subtask]->endInput()
                                           : harnesses_[subtask]->processWatermark(watermark));
      const auto& batches = harnesses_[subtask]->output().batches;
      emitted.insert(emitted.end(), batches.begin() + drained_[subtask], batches.end());
      drained_[subtask] = batches.size();
      EXPECT_TRUE(harnesses_[subtask]->output().sides["late"].empty());
    }
    return emitted;
  }

 private:
  TempDir directory_;
  std::vector<int> hashColumns_;
  int parallelism_;
  std::vector<std::unique_ptr<KeyedStateBackend>> backends_;
  std::vector<std::unique_ptr<OperatorHarness>> harnesses_;
  std::vector<size_t> drained_;
};

/// Runs the bids through `stages` in order, forwarding each stage's output and then the watermark.
std::vector<RecordBatch> run(std::vector<std::unique_ptr<Stage>>& stages) {
  const BidStream& stream = bidStream();
  std::vector<RecordBatch> results;
  for (size_t step = 0; step <= stream.batches.size(); ++step) {
    const bool last = step == stream.batches.size();
    std::vector<RecordBatch> batches;
    if (!last) batches.push_back(stream.batches[step]);
    const int64_t watermark = last ? kMaxWatermark : stream.watermarks[step];
    for (auto& stage : stages) {
      for (const RecordBatch& batch : batches) stage->push(batch);
      batches = stage->advance(watermark);
    }
    results.insert(results.end(), batches.begin(), batches.end());
  }
  return results;
}

/// Output rows as JSON lines with fields renamed: {output name: column name}.
std::vector<std::string> jsonRows(const std::vector<RecordBatch>& batches,
                                  const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::string> lines;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& [name, column] : fields) {
        const Column& values = *batch.columnByName(column);
        if (values.type() == DataType::kString) {
          object[name] = std::string(values.stringAt(row));
        } else {
          object[name] = values.int64s()[row];
        }
      }
      lines.push_back(object.dump());
    }
  }
  return lines;
}

std::vector<std::string> expected(const std::string& query) {
  return sluice::testing::readLines(std::string(SLUICE_TEST_DATA_DIR) + "/nexmark/expected/" + query + ".jsonl");
}

class NexmarkWindowTest : public ::testing::TestWithParam<int> {};

TEST_P(NexmarkWindowTest, Q5HotItems) {
  WindowAggregateOptions counts;
  counts.keyBy = {"auction"};
  counts.window = WindowSpec::hop(10000, 2000);
  counts.aggregates = {{"num", "count()"}};
  ASSERT_OK_AND_ASSIGN(auto countProgram, WindowAggregateProgram::compile(bidSchema(), 5, counts));
  WindowTopNOptions top;
  top.orderBy = {{"num", true}};
  ASSERT_OK_AND_ASSIGN(auto topProgram, WindowTopNProgram::compile(countProgram->outputSchema(),
                                                                   countProgram->outputEventTimeIndex(), top));
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(std::make_unique<Stage>([&] { return std::make_unique<WindowAggregateOperator>(countProgram); },
                                           countProgram->keyColumns(), GetParam()));
  stages.push_back(std::make_unique<Stage>([&] { return std::make_unique<WindowTopNOperator>(topProgram); },
                                           topProgram->hashColumns(), GetParam()));
  auto rows = jsonRows(
      run(stages), {{"auction", "auction"}, {"num", "num"}, {"starttime", "window_start"}, {"endtime", "window_end"}});
  EXPECT_EQ(sluice::testing::compareJsonRows(expected("q5"), rows), "");
}

TEST_P(NexmarkWindowTest, Q7HighestBid) {
  WindowTopNOptions top;
  top.orderBy = {{"price", true}};
  top.window = WindowSpec::tumble(10000);
  ASSERT_OK_AND_ASSIGN(auto program, WindowTopNProgram::compile(bidSchema(), 5, top));
  std::vector<std::unique_ptr<Stage>> stages;
  // A global operator: the runtime gives it parallelism 1 whatever the job's parallelism.
  stages.push_back(std::make_unique<Stage>([&] { return std::make_unique<WindowTopNOperator>(program); },
                                           program->hashColumns(), GetParam()));
  auto rows = jsonRows(
      run(stages),
      {{"auction", "auction"}, {"price", "price"}, {"bidder", "bidder"}, {"dateTime", "dateTime"}, {"extra", "extra"}});
  EXPECT_EQ(sluice::testing::compareJsonRows(expected("q7"), rows), "");
}

TEST_P(NexmarkWindowTest, Q11UserSessions) {
  WindowAggregateOptions sessions;
  sessions.keyBy = {"bidder"};
  sessions.window = WindowSpec::session(10000);
  sessions.aggregates = {{"bid_count", "count()"}};
  ASSERT_OK_AND_ASSIGN(auto program, WindowAggregateProgram::compile(bidSchema(), 5, sessions));
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(std::make_unique<Stage>([&] { return std::make_unique<WindowAggregateOperator>(program); },
                                           program->keyColumns(), GetParam()));
  auto rows = jsonRows(
      run(stages),
      {{"bidder", "bidder"}, {"bid_count", "bid_count"}, {"starttime", "window_start"}, {"endtime", "window_end"}});
  EXPECT_EQ(sluice::testing::compareJsonRows(expected("q11"), rows), "");
}

INSTANTIATE_TEST_SUITE_P(Parallelism, NexmarkWindowTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace sluice::window
