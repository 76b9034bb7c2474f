// Tests for KeyedProcessOperator through the harness: per-key state, timers in
// order (also after a restore), processing time, side outputs and user errors,
// on both state backends.
#include "operators/plugin/keyed_process_operator.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/state/keyed_state_backend.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kMaxParallelism = 16;

SchemaPtr inputSchema() {
  static SchemaPtr schema =
      Schema::make({{"user", DataType::kString}, {"v", DataType::kInt64}, {"ts", DataType::kTimestamp}}).value();
  return schema;
}

/// Output rows of the functions below: a key and a number.
SchemaPtr resultSchema() {
  static SchemaPtr schema = Schema::make({{"user", DataType::kString}, {"n", DataType::kInt64}}).value();
  return schema;
}

struct Row {
  std::string user;
  int64_t v;
  int64_t ts;
};

RecordBatch batchOf(const std::vector<Row>& rows) {
  RecordBatchBuilder builder(inputSchema(), 2);
  for (const Row& row : rows) {
    builder.column(0).appendString(row.user);
    builder.column(1).appendInt64(row.v);
    builder.column(2).appendInt64(row.ts);
  }
  return builder.finish();
}

/// "user:n" per row of (user string, n int64) batches, or "user:v@ts" for input-shaped ones.
std::vector<std::string> textOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> lines;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      std::string line =
          std::string(batch.column(0)->stringAt(row)) + ":" + std::to_string(batch.column(1)->int64s()[row]);
      if (batch.numColumns() == 3) line += "@" + std::to_string(batch.column(2)->int64s()[row]);
      lines.push_back(line);
    }
  }
  return lines;
}

Status emitResult(Collector& out, std::string_view user, int64_t n) {
  out.main().column(0).appendString(user);
  out.main().column(1).appendInt64(n);
  return out.main().endRow();
}

/// Counts rows per key in value state; emits (key, running count) once per key
/// and batch; rows with v < 0 go to side output "negative" instead.
class CountFunction final : public KeyedProcessFunction {
 public:
  Status open(ProcessContext& context) override {
    SLUICE_ASSIGN_OR_RETURN(auto count, context.valueState<int64_t>("count"));
    count_.emplace(std::move(count));
    return Status::OK();
  }
  Status processKey(const RecordBatch& batch, std::span<const int32_t> rows, ProcessContext& context,
                    Collector& out) override {
    SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> count, count_->value());
    int64_t total = count.value_or(0);
    for (int32_t row : rows) {
      RowView view(batch, row);
      if (view.int64(1) < 0) {
        SLUICE_RETURN_NOT_OK(out.side("negative", view));
      } else {
        ++total;
      }
    }
    SLUICE_RETURN_NOT_OK(count_->update(total));
    return emitResult(out, context.currentKeyRow().string(0), total);
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

/// Registers an event-time timer at each row's `v`; on firing emits (key,
/// time), and the timer at 100 registers one at 120 that is already due.
class TimerFunction final : public KeyedProcessFunction {
 public:
  Status processElement(const RowView& row, ProcessContext& context, Collector& out) override {
    (void)out;
    return context.registerEventTimeTimer(row.int64(1));
  }
  Status onTimer(int64_t timestamp, TimeDomain domain, ProcessContext& context, Collector& out) override {
    EXPECT_EQ(domain, TimeDomain::kEventTime);
    if (timestamp == 100) SLUICE_RETURN_NOT_OK(context.registerEventTimeTimer(120));
    return emitResult(out, context.currentKeyRow().string(0), timestamp);
  }
};

int64_t gNow = 1000;
int64_t testClock() { return gNow; }

/// Registers a processing-time timer `v` ms from now; a row with v = 0 deletes the key's timer at now + 5.
class ProcessingTimeFunction final : public KeyedProcessFunction {
 public:
  Status processElement(const RowView& row, ProcessContext& context, Collector& out) override {
    (void)out;
    if (row.int64(1) == 0) return context.deleteProcessingTimeTimer(context.currentProcessingTime() + 5);
    return context.registerProcessingTimeTimer(context.currentProcessingTime() + row.int64(1));
  }
  Status onTimer(int64_t timestamp, TimeDomain domain, ProcessContext& context, Collector& out) override {
    EXPECT_EQ(domain, TimeDomain::kProcessingTime);
    return emitResult(out, context.currentKeyRow().string(0), timestamp);
  }
};

/// Misbehaves on purpose, depending on the row's `v`.
class FaultyFunction final : public KeyedProcessFunction {
 public:
  Status processElement(const RowView& row, ProcessContext& context, Collector& out) override {
    switch (row.int64(1)) {
      case 1: throw std::runtime_error("boom");
      case 2: return out.side("nope", row);
      case 3: return out.collect(row);  // input-shaped row into a (user, n) output
      case 4: return out.main().appendEncoded(context.encodeRow(row));
      default: out.main().column(0).appendString("half a row"); return out.main().endRow();
    }
  }
};

template <typename Function>
std::shared_ptr<const KeyedProcessPlan> planFor(std::string name) {
  auto plan = std::make_shared<KeyedProcessPlan>();
  plan->description = "process function '" + name + "'";
  plan->input = StreamInfo{inputSchema(), 2};
  plan->keyColumns = {0};
  plan->output = StreamInfo{resultSchema(), -1};
  plan->sideOutputs["negative"] = plan->input;
  plan->createFunction = [] { return std::make_unique<Function>(); };
  return plan;
}

class KeyedProcessOperatorTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<KeyedStateBackend> newBackend() {
    StateBackendOptions options;
    options.type = GetParam();
    options.directory = directory_.file("backend-" + std::to_string(next_++));
    options.keyGroups = KeyGroupRange{0, kMaxParallelism - 1};
    options.maxParallelism = kMaxParallelism;
    auto backend = createKeyedStateBackend(options);
    EXPECT_TRUE(backend.ok()) << backend.status().toString();
    return std::move(backend).value();
  }

  std::unique_ptr<testing::OperatorHarness> harness(std::shared_ptr<const KeyedProcessPlan> plan,
                                                    KeyedStateBackend& backend) {
    OperatorContext context;
    context.nodeId = "p";
    context.maxParallelism = kMaxParallelism;
    context.keyedStateBackend = &backend;
    context.processingTime = testClock;
    return std::make_unique<testing::OperatorHarness>(std::make_unique<KeyedProcessOperator>(std::move(plan)), context);
  }

  testing::TempDir directory_;
  int next_ = 0;
};

TEST_P(KeyedProcessOperatorTest, KeepsStatePerKeyAndCallsOncePerKeyAndBatch) {
  auto backend = newBackend();
  auto h = harness(planFor<CountFunction>("count"), *backend);
  ASSERT_OK(h->open());
  ASSERT_OK(h->processBatch(batchOf({{"a", 1, 10}, {"b", 1, 11}, {"a", 1, 12}, {"a", -1, 13}})));
  ASSERT_OK(h->processBatch(batchOf({{"b", 5, 20}, {"c", -7, 21}})));
  // One result per key and batch, in first-appearance order, with the running count.
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("a:2", "b:1", "b:2", "c:0"));
  EXPECT_THAT(textOf(h->output().sides["negative"]), ElementsAre("a:-1@13", "c:-7@21"));
  ASSERT_OK(h->close());
}

TEST_P(KeyedProcessOperatorTest, FiresEventTimeTimersInOrderWhenTheWatermarkPasses) {
  auto backend = newBackend();
  auto h = harness(planFor<TimerFunction>("timers"), *backend);
  ASSERT_OK(h->open());
  ASSERT_OK(h->processBatch(batchOf({{"b", 150, 1}, {"a", 100, 2}, {"c", 300, 3}, {"a", 100, 4}, {"a", 90, 5}})));
  ASSERT_OK(h->processWatermark(89));
  EXPECT_TRUE(h->output().batches.empty());
  ASSERT_OK(h->processWatermark(200));
  // a@90, then a@100 (registered twice: one timer), then a@120 registered while firing, then b@150.
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("a:90", "a:100", "a:120", "b:150"));
  EXPECT_THAT(h->output().watermarks, ElementsAre(89, 200));
  ASSERT_OK(h->endInput());
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("a:90", "a:100", "a:120", "b:150", "c:300"));
  ASSERT_OK(h->close());
}

TEST_P(KeyedProcessOperatorTest, TimersLiveInKeyedStateAndSurviveARestore) {
  auto backend = newBackend();
  {
    auto h = harness(planFor<TimerFunction>("timers"), *backend);
    ASSERT_OK(h->open());
    ASSERT_OK(h->processBatch(batchOf({{"x", 50, 1}, {"y", 40, 2}})));
    ASSERT_OK(h->close());
  }
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(1, directory_.file("chk/chk-1")));
  auto restored = newBackend();
  ASSERT_OK(restored->restore({snapshot}, directory_.file("chk")));
  auto h = harness(planFor<TimerFunction>("timers"), *restored);
  ASSERT_OK(h->open());
  ASSERT_OK(h->processWatermark(60));
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("y:40", "x:50"));
  ASSERT_OK(h->close());
}

TEST_P(KeyedProcessOperatorTest, FiresProcessingTimeTimersWhenTheOperatorNextRuns) {
  gNow = 1000;
  auto backend = newBackend();
  auto h = harness(planFor<ProcessingTimeFunction>("clock"), *backend);
  ASSERT_OK(h->open());
  ASSERT_OK(h->processBatch(batchOf({{"a", 10, 1}, {"b", 5, 2}, {"c", 5, 3}})));
  ASSERT_OK(h->processBatch(batchOf({{"c", 0, 4}})));  // deletes c's timer at 1005
  gNow = 1007;
  ASSERT_OK(h->processBatch(batchOf({})));
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("b:1005"));
  gNow = 2000;
  ASSERT_OK(h->processWatermark(5));
  EXPECT_THAT(textOf(h->output().batches), ElementsAre("b:1005", "a:1010"));
  ASSERT_OK(h->close());
}

TEST_P(KeyedProcessOperatorTest, ReportsUserErrorsNamingTheNodeAndFunction) {
  auto backend = newBackend();
  auto run = [&](int64_t v) {
    auto h = harness(planFor<FaultyFunction>("faulty"), *backend);
    EXPECT_OK(h->open());
    Status status = h->processBatch(batchOf({{"k", v, 1}}));
    EXPECT_OK(h->close());
    EXPECT_EQ(status.message().find('\n'), std::string::npos);
    return status;
  };
  Status thrown = run(1);
  EXPECT_EQ(thrown.code(), StatusCode::kUserCodeError);
  EXPECT_EQ(thrown.message(), "node 'p': process function 'faulty': processKey threw: boom");
  EXPECT_EQ(run(2).message(),
            "node 'p': process function 'faulty': side output 'nope' was not declared (declared: negative)");
  EXPECT_THAT(run(3).message(), HasSubstr("main output (user:string, n:int64) cannot take a row of "
                                          "(user:string, v:int64, ts:timestamp): the column types differ"));
  EXPECT_THAT(run(4).message(), HasSubstr("does not have the input's column types"));
  EXPECT_THAT(run(5).message(), HasSubstr("endRow() with 0 new values in column 'n', expected exactly 1"));
}

TEST_P(KeyedProcessOperatorTest, NeedsAKeyedStateBackend) {
  testing::OperatorHarness h(std::make_unique<KeyedProcessOperator>(planFor<CountFunction>("count")),
                             OperatorContext{.nodeId = "p"});
  EXPECT_EQ(h.open().message(), "node 'p': a process node needs a keyed state backend");
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyedProcessOperatorTest, ::testing::Values("hashmap", "rocksdb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sluice
