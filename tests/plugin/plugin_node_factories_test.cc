// Tests for planning `process` and `plugin` nodes: what the planner derives,
// the example plugin's dedup run through the harness, and planning errors.
#include "operators/plugin/plugin_node_factories.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/plugin/plugin_loader.h"
#include "operators/plugin/plugin_operators.h"
#include "runtime/state/keyed_state_backend.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

SchemaPtr clickSchema() {
  static SchemaPtr schema = Schema::make({{"user", DataType::kString},
                                          {"url", DataType::kString},
                                          {"price", DataType::kInt64},
                                          {"ts", DataType::kTimestamp}})
                                .value();
  return schema;
}

/// A job with the example plugin declared and `nodes` as its only nodes.
JobSpec jobWith(const std::string& nodes, const std::string& pluginPath = SLUICE_EXAMPLE_PLUGIN) {
  std::string text =
      "name: t\n"
      "plugins: [{name: example, path: " +
      pluginPath +
      "}]\n"
      "sources: [{id: clicks, type: generator}]\n"
      "nodes:\n" +
      nodes + "sinks: [{id: out, from: [clicks], type: discard}]\n";
  auto job = parseJobSpec(text, {}, "job.yaml");
  EXPECT_TRUE(job.ok()) << job.status().toString();
  return job.ok() ? std::move(job).value() : JobSpec();
}

/// Plans the job's first node over one click stream.
Result<PlannedNode> plan(const JobSpec& job) {
  registerPluginOperators();
  PlanContext context;
  context.job = &job;
  SLUICE_ASSIGN_OR_RETURN(NodeFactory factory, NodeRegistry::instance().lookup(job.nodes.at(0)));
  return factory(job.nodes.at(0), {StreamInfo{clickSchema(), 3}}, context);
}

std::string planError(const std::string& nodes, const std::string& pluginPath = SLUICE_EXAMPLE_PLUGIN) {
  JobSpec job = jobWith(nodes, pluginPath);
  auto planned = plan(job);
  if (planned.ok()) return "<planned>";
  EXPECT_EQ(planned.status().message().find('\n'), std::string::npos);
  return planned.status().message();
}

const char* kDedupNode =
    "  - {id: unique, type: process, plugin: example, function: dedup, from: [clicks], "
    "key_by: [user, url], ttl: 10s}\n";

TEST(PluginNodeFactoriesTest, PlansAProcessNodeAsKeyedAndHashPartitioned) {
  ASSERT_OK_AND_ASSIGN(PlannedNode planned, plan(jobWith(kDedupNode)));
  EXPECT_TRUE(planned.keyed);
  ASSERT_EQ(planned.inputs.size(), 1u);
  EXPECT_EQ(planned.inputs[0].kind, PartitionKind::kHash);
  EXPECT_THAT(planned.inputs[0].keyColumns, ElementsAre(0, 1));
  std::vector<std::string> tags;
  for (const auto& [tag, stream] : planned.outputs) {
    tags.push_back(tag);
    EXPECT_EQ(*stream.schema, *clickSchema());
    EXPECT_EQ(stream.eventTimeIndex, 3);
  }
  EXPECT_THAT(tags, ElementsAre("", "duplicates", "late"));
  EXPECT_NE(planned.createOperator, nullptr);
}

struct Click {
  std::string user;
  std::string url;
  int64_t price;
  int64_t ts;
};

RecordBatch clicks(const std::vector<Click>& rows) {
  RecordBatchBuilder builder(clickSchema(), 3);
  for (const Click& click : rows) {
    builder.column(0).appendString(click.user);
    builder.column(1).appendString(click.url);
    builder.column(2).appendInt64(click.price);
    builder.column(3).appendInt64(click.ts);
  }
  return builder.finish();
}

std::vector<std::string> clickText(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> lines;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      lines.push_back(std::string(batch.column(0)->stringAt(row)) + std::string(batch.column(1)->stringAt(row)) + "$" +
                      std::to_string(batch.column(2)->int64s()[row]) + "@" +
                      std::to_string(batch.column(3)->int64s()[row]));
    }
  }
  return lines;
}

TEST(PluginNodeFactoriesTest, ExampleDedupDecidesInEventTimeOrder) {
  ASSERT_OK_AND_ASSIGN(PlannedNode planned, plan(jobWith(kDedupNode)));
  testing::TempDir directory;
  StateBackendOptions options;
  options.type = "hashmap";
  options.keyGroups = KeyGroupRange{0, 127};
  ASSERT_OK_AND_ASSIGN(auto backend, createKeyedStateBackend(options));
  OperatorContext context;
  context.nodeId = "unique";
  context.keyedStateBackend = backend.get();
  testing::OperatorHarness h(planned.createOperator(), context);
  ASSERT_OK(h.open());
  // Out of order within the watermark: ann/a@5000 arrives before ann/a@1000.
  ASSERT_OK(h.processBatch(clicks({{"ann", "/a", 2, 5000}, {"ann", "/a", 1, 1000}, {"bob", "/a", 4, 1000}})));
  ASSERT_OK(h.processBatch(clicks({{"ann", "/a", 8, 11000}, {"ann", "/b", 16, 1500}})));
  ASSERT_OK(h.processWatermark(5999));
  EXPECT_THAT(clickText(h.output().batches), UnorderedElementsAre("ann/a$1@1000", "bob/a$4@1000", "ann/b$16@1500"));
  EXPECT_THAT(clickText(h.output().sides["duplicates"]), ElementsAre("ann/a$2@5000"));
  ASSERT_OK(h.processBatch(clicks({{"bob", "/a", 32, 3000}})));  // behind the watermark
  EXPECT_THAT(clickText(h.output().sides["late"]), ElementsAre("bob/a$32@3000"));
  ASSERT_OK(h.endInput());
  // 11000 is 10 s after the kept 1000: a new first occurrence.
  EXPECT_THAT(clickText(h.output().batches),
              UnorderedElementsAre("ann/a$1@1000", "bob/a$4@1000", "ann/b$16@1500", "ann/a$8@11000"));
  ASSERT_OK(h.close());
}

TEST(PluginNodeFactoriesTest, PlansAPluginOperator) {
  ASSERT_OK_AND_ASSIGN(PlannedNode planned,
                       plan(jobWith("  - {id: l, type: plugin, plugin: example, operator: label, from: [clicks], "
                                    "value: x, field: tag}\n")));
  EXPECT_FALSE(planned.keyed);
  EXPECT_EQ(planned.inputs[0].kind, PartitionKind::kForward);
  EXPECT_EQ(planned.outputs.at("").schema->toString(),
            "user:string, url:string, price:int64, ts:timestamp, tag:string");
  testing::OperatorHarness h(planned.createOperator());
  ASSERT_OK(h.open());
  ASSERT_OK(h.processBatch(clicks({{"ann", "/a", 2, 5000}})));
  ASSERT_EQ(h.output().numRows(), 1);
  EXPECT_EQ(h.output().batches[0].column(4)->stringAt(0), "x");

  // With key_by a plugin operator is keyed, and `operator:` may name a process function.
  ASSERT_OK_AND_ASSIGN(PlannedNode keyed,
                       plan(jobWith("  - {id: l, type: plugin, plugin: example, operator: label, from: [clicks], "
                                    "key_by: url, value: x}\n")));
  EXPECT_TRUE(keyed.keyed);
  EXPECT_EQ(keyed.inputs[0].kind, PartitionKind::kHash);
  EXPECT_THAT(keyed.inputs[0].keyColumns, ElementsAre(1));
  ASSERT_OK_AND_ASSIGN(PlannedNode process,
                       plan(jobWith("  - {id: d, type: plugin, plugin: example, operator: dedup, from: [clicks], "
                                    "key_by: user, ttl: 1s}\n")));
  EXPECT_TRUE(process.keyed);
  EXPECT_EQ(process.outputs.size(), 3u);
}

TEST(PluginNodeFactoriesTest, BuiltInProcessFunctionsNeedNoPlugin) {
  PluginLoader::instance().registerBuiltinProcessFunction(
      "passthrough", [](ProcessFunctionRequest& request) -> Result<ProcessFunctionPlan> {
        struct Passthrough final : KeyedProcessFunction {
          Status processElement(const RowView& row, ProcessContext&, Collector& out) override {
            return out.collect(row);
          }
        };
        ProcessFunctionPlan plan;
        plan.output = request.input;
        plan.createFunction = [] { return std::make_unique<Passthrough>(); };
        return plan;
      });
  ASSERT_OK_AND_ASSIGN(
      PlannedNode planned,
      plan(jobWith("  - {id: p, type: process, function: passthrough, from: [clicks], key_by: url}\n")));
  EXPECT_TRUE(planned.keyed);
  EXPECT_EQ(planError("  - {id: p, type: process, function: nothing, from: [clicks], key_by: url}\n"),
            "node 'p': no built-in process function 'nothing' (built-in: passthrough); to use a plugin's, add "
            "'plugin: <name>'");
}

TEST(PluginNodeFactoriesTest, ReportsPlanningErrors) {
  EXPECT_EQ(planError("  - {id: x, type: plugin, plugin: example, operator: dedupp, from: [clicks]}\n"),
            "node 'x': plugin 'example' has no operator 'dedupp' (it has: dedup, label)");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: example, function: label, from: [clicks], key_by: url}\n"),
            "node 'x': plugin 'example' has no process function 'label' (it has: dedup); 'label' is an operator: use "
            "type: plugin, operator: label");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: other, function: dedup, from: [clicks], key_by: url}\n"),
            "node 'x': plugin 'other' is not declared; add {name: other, path: ...} to the job's 'plugins:' list "
            "(declared: example)");
  EXPECT_EQ(planError(kDedupNode, "/x/libx.so"),
            "plugin 'example': cannot open '/x/libx.so': No such file or directory");
  EXPECT_EQ(planError(kDedupNode, SLUICE_WRONG_VERSION_PLUGIN),
            "plugin 'example' was built against plugin API version 2, this engine speaks version 1; rebuild it");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: example, function: dedup, from: [clicks], ttl: 1s}\n"),
            "node 'x': missing 'key_by': a process node is keyed (key_by: field or [fields])");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: example, from: [clicks], key_by: url}\n"),
            "node 'x': missing 'function': the keyed process function to run (e.g. function: dedup)");
  EXPECT_EQ(
      planError(
          "  - {id: x, type: process, plugin: example, function: dedup, from: [clicks], key_by: uurl, ttl: 1s}\n"),
      "node 'x': key_by: unknown field 'uurl' (fields: user, url, price, ts)");
  EXPECT_EQ(
      planError("  - {id: x, type: process, plugin: example, function: dedup, from: [clicks], key_by: url, ttl: 1s, "
                "tll: 2s}\n"),
      "node 'x': unknown option 'tll' for process function 'example.dedup' (it reads: ttl)");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: example, function: dedup, from: [clicks], key_by: url}\n"),
            "node 'x': dedup needs 'ttl', e.g. ttl: 10s");
  EXPECT_EQ(planError("  - {id: x, type: process, plugin: example, function: dedup, from: [clicks], key_by: url, "
                      "ttl: soon}\n"),
            "node 'x': ttl: expected a duration such as 1500ms, 10s or 5m, not 'soon'");
  EXPECT_EQ(planError("  - {id: x, type: plugin, plugin: example, operator: label, from: [clicks], operator2: y}\n"),
            "node 'x': label needs 'value', the text to put in every row");
  EXPECT_EQ(planError("  - {id: x, type: plugin, plugin: example, operator: label, from: [clicks], value: v, "
                      "extra: [1, 2]}\n"),
            "node 'x': unknown option 'extra' for plugin operator 'example.label' (it reads: field, value)");
}

}  // namespace
}  // namespace sluice
