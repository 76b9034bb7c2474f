// Tests for job file parsing: structure, parameters, validation errors and topological order.
#include "runtime/job/job_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Parameters = std::map<std::string, std::string>;

constexpr const char* kNexmarkJob = R"(name: q5-like
config: { execution.checkpointing.interval: 1s, parallelism.default: "${p:-2}" }
sources:
  - id: events
    type: file
    format: jsonl
    path: ${events}
    discriminator: type
    kinds:
      bid: { schema: {auction: int64, bidder: int64, price: int64, dateTime: timestamp}, event_time: dateTime }
      person: { schema: {id: int64, name: string, dateTime: timestamp}, event_time: dateTime }
    watermark: { max_out_of_orderness: 1500ms }
nodes:
  - id: top
    from: counts
    type: top_n
    parallelism: 1
  - id: counts
    from: [events.bid]
    type: window_aggregate
    key_by: auction
    window: { hop: 10s, slide: 2s }
    aggregate: { num: count() }
  - { id: expensive, from: [events.bid], filter: "price > ${threshold:-1000}", select: { auction: auction } }
sinks:
  - { id: out, from: [top], type: file, format: jsonl, path: ${output}/top }
  - { id: late, from: [counts.late, expensive], type: print }
)";

Result<JobSpec> parse(const std::string& text, const Parameters& parameters = {}) {
  return parseJobSpec(text, parameters, "job.yaml");
}

std::string errorOf(const std::string& text, const Parameters& parameters = {}) {
  Result<JobSpec> job = parse(text, parameters);
  if (job.ok()) return "<parsed>";
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  return job.status().message();
}

/// A valid skeleton whose `nodes:` section is `nodes`.
std::string withNodes(const std::string& nodes) {
  return "name: t\n"
         "sources:\n"
         "  - { id: src, type: generator }\n"
         "nodes:\n" +
         nodes +
         "sinks:\n"
         "  - { id: out, from: [src], type: discard }\n";
}

TEST(JobSpecTest, ParsesAFullJob) {
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse(kNexmarkJob, {{"events", "/data/events.jsonl"}, {"output", "/out"}}));
  EXPECT_EQ(job.name, "q5-like");
  EXPECT_EQ(job.sourceText, kNexmarkJob);
  EXPECT_EQ(job.path, "");
  EXPECT_EQ(job.config.getDuration("execution.checkpointing.interval"), std::chrono::milliseconds(1000));
  EXPECT_EQ(job.config.getInteger("parallelism.default"), 2);
  EXPECT_EQ(job.config.values().size(), 2u);

  ASSERT_EQ(job.sources.size(), 1u);
  const NodeSpec& events = job.sources[0];
  EXPECT_EQ(events.id, "events");
  EXPECT_EQ(events.role, NodeRole::kSource);
  EXPECT_EQ(events.line, 4);
  EXPECT_TRUE(events.from.empty());
  EXPECT_FALSE(events.parallelism.has_value());
  EXPECT_EQ(events.options["path"].as<std::string>(), "/data/events.jsonl");
  EXPECT_EQ(events.options["type"].as<std::string>(), "file");
  EXPECT_EQ(events.options["kinds"]["bid"]["schema"]["price"].as<std::string>(), "int64");
  EXPECT_EQ(events.options["watermark"]["max_out_of_orderness"].as<std::string>(), "1500ms");

  ASSERT_EQ(job.nodes.size(), 3u);
  const NodeSpec& top = job.nodes[0];
  EXPECT_EQ(top.id, "top");
  EXPECT_EQ(top.role, NodeRole::kOperator);
  EXPECT_THAT(top.from, ElementsAre(StreamRef{"counts", ""}));
  EXPECT_EQ(top.parallelism, 1);
  EXPECT_EQ(top.line, 14);
  EXPECT_THAT(job.nodes[1].from, ElementsAre(StreamRef{"events", "bid"}));
  EXPECT_EQ(job.nodes[1].options["window"]["hop"].as<std::string>(), "10s");
  EXPECT_EQ(job.nodes[2].options["filter"].as<std::string>(), "price > 1000");

  ASSERT_EQ(job.sinks.size(), 2u);
  EXPECT_EQ(job.sinks[0].options["path"].as<std::string>(), "/out/top");
  EXPECT_EQ(job.sinks[0].role, NodeRole::kSink);
  EXPECT_THAT(job.sinks[1].from, ElementsAre(StreamRef{"counts", "late"}, StreamRef{"expensive", ""}));
  EXPECT_TRUE(job.unusedParameters.empty());

  EXPECT_EQ(job.find("counts"), &job.nodes[1]);
  EXPECT_EQ(job.find("out"), &job.sinks[0]);
  EXPECT_EQ(job.find("events"), &job.sources[0]);
  EXPECT_EQ(job.find("nope"), nullptr);
}

TEST(JobSpecTest, TopologicalOrderPutsProducersFirst) {
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse(kNexmarkJob, {{"events", "e"}, {"output", "o"}}));
  std::vector<std::string> ids;
  for (const NodeSpec* spec : job.topologicalOrder()) ids.push_back(spec->id);
  EXPECT_THAT(ids, ElementsAre("events", "counts", "top", "expensive", "out", "late"));
}

TEST(JobSpecTest, ParametersUseDefaultsAndReportUnusedOnes) {
  ASSERT_OK_AND_ASSIGN(
      JobSpec job,
      parse(kNexmarkJob,
            {{"events", "e"}, {"output", "o"}, {"p", "6"}, {"threshold", "5"}, {"outptu", "typo"}, {"extra", "x"}}));
  EXPECT_EQ(job.config.getInteger("parallelism.default"), 6);
  EXPECT_EQ(job.nodes[2].options["filter"].as<std::string>(), "price > 5");
  EXPECT_THAT(job.unusedParameters, ElementsAre("extra", "outptu"));
}

TEST(JobSpecTest, SubstitutesInsideScalarsOnly) {
  const std::string text = R"(name: ${name:-anonymous}
sources:
  - id: src
    type: generator
    "${key}": kept
    list: [a-${x}, "${x}${x}", "$${literal}", "${empty:-fallback}", "${blank:-fallback}", "${blank}"]
    nested: { deep: [{ value: "${x:-ignored}" }] }
sinks:
  - { id: out, from: src, type: print }
)";
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse(text, {{"x", "1"}, {"key", "k"}, {"blank", ""}}));
  EXPECT_EQ(job.name, "anonymous");
  const YAML::Node& options = job.sources[0].options;
  EXPECT_EQ(options["${key}"].as<std::string>(), "kept");
  EXPECT_FALSE(options["k"].IsDefined());
  std::vector<std::string> list = options["list"].as<std::vector<std::string>>();
  EXPECT_THAT(list, ElementsAre("a-1", "11", "${literal}", "fallback", "fallback", ""));
  EXPECT_EQ(options["nested"]["deep"][0]["value"].as<std::string>(), "1");
  EXPECT_THAT(job.sinks[0].from, ElementsAre(StreamRef{"src", ""}));
  EXPECT_TRUE(job.unusedParameters.count("key"));  // keys are never substituted
}

TEST(JobSpecTest, PlaceholdersWorkInFlowCollectionsAndValuesCannotChangeStructure) {
  // The brief's example: unquoted placeholders inside `{ }` and `[ ]`, which plain YAML rejects.
  const std::string text = R"(name: q2
config: { execution.checkpointing.interval: 1s }
sources:
  - id: events
    type: file
    format: jsonl
    path: ${events}
    discriminator: type
    kinds:
      bid: { schema: {auction: int64, price: int64, dateTime: timestamp}, event_time: dateTime }
    watermark: { max_out_of_orderness: 1500ms }
nodes:
  - { id: q2, from: [events.bid], filter: "auction % 123 = 0", select: { auction: auction, price: price } }
sinks:
  - { id: out, from: [q2], type: file, format: jsonl, path: ${output}, tags: [${a:-x, y}, b], m: {k: ${a:-}} }
)";
  const std::string tricky = "/out: {evil: [1]}, # not a comment\nnext: line";
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse(text, {{"events", "e.jsonl"}, {"output", tricky}}));
  const YAML::Node& sink = job.sinks[0].options;
  EXPECT_EQ(sink["path"].as<std::string>(), tricky);
  EXPECT_EQ(sink["format"].as<std::string>(), "jsonl");
  EXPECT_THAT(sink["tags"].as<std::vector<std::string>>(), ElementsAre("x, y", "b"));
  EXPECT_EQ(sink["m"]["k"].as<std::string>(), "");
  EXPECT_EQ(job.sources[0].options["path"].as<std::string>(), "e.jsonl");
  EXPECT_EQ(job.nodes[0].options["filter"].as<std::string>(), "auction % 123 = 0");
  EXPECT_EQ(sink.size(), 7u);
}

TEST(JobSpecTest, UnsetParameterNamesItAndItsLine) {
  EXPECT_EQ(errorOf(kNexmarkJob, {{"output", "o"}}),
            "job.yaml:7: parameter 'events' is not set; pass --set events=VALUE");
  EXPECT_EQ(errorOf("name: ${oops\n"), "job.yaml:1: unterminated parameter reference in '${oops'; write ${name}");
  EXPECT_THAT(errorOf("name: ${a b}\n"), HasSubstr("job.yaml:1: invalid parameter reference '${a b}'"));
}

TEST(JobSpecTest, ReportsMalformedYamlWithLineAndColumn) {
  EXPECT_EQ(errorOf("name: q\nsources: [ {id: a}\nsinks: []\n"),
            "job.yaml:3:1: malformed YAML: end of sequence flow not found");
  EXPECT_THAT(errorOf("name: q\n  bad: indent\n"), HasSubstr("job.yaml:2:"));
  EXPECT_EQ(errorOf(""), "job.yaml: the job file is empty");
  EXPECT_EQ(errorOf("- a\n- b\n"), "job.yaml:1: a job file must be a mapping with 'name', 'sources' and 'sinks'");
}

TEST(JobSpecTest, RejectsUnknownAndMissingTopLevelKeys) {
  EXPECT_EQ(errorOf("name: q\nparameters: {a: 1}\n"),
            "job.yaml:2: unknown top-level key 'parameters' (expected name, config, plugins, sources, nodes, sinks)");
  EXPECT_EQ(errorOf("sources: []\n"), "job.yaml:1: the job needs a 'name'");
  EXPECT_EQ(errorOf("name: [a]\n"), "job.yaml:1: 'name' must be a non-empty string");
  EXPECT_EQ(errorOf("name: q\nsinks: [{id: out, from: x, type: print}]\n"),
            "job.yaml:1: the job has no sources; add a 'sources:' list");
  EXPECT_EQ(errorOf("name: q\nsources: [{id: s, type: generator}]\nsinks: []\n"),
            "job.yaml:1: the job has no sinks; add a 'sinks:' list");
  EXPECT_EQ(errorOf("name: q\nsources: {id: s}\n"), "job.yaml:2: 'sources' must be a list of entries");
}

TEST(JobSpecTest, RejectsDuplicateKeys) {
  EXPECT_EQ(errorOf(withNodes("  - id: a\n    from: src\n    from: a\n")), "job.yaml:7: duplicate key 'from'");
}

TEST(JobSpecTest, ValidatesIds) {
  EXPECT_EQ(errorOf(withNodes("  - { from: src }\n")), "job.yaml:5: every entry of 'nodes' needs an 'id'");
  EXPECT_THAT(errorOf(withNodes("  - { id: a.b, from: src }\n")),
              HasSubstr("job.yaml:5: node id 'a.b' is invalid: use letters, digits"));
  EXPECT_THAT(errorOf(withNodes("  - { id: 9lives, from: src }\n")), HasSubstr("node id '9lives' is invalid"));
  EXPECT_EQ(errorOf(withNodes("  - just-a-string\n")),
            "job.yaml:5: every entry of 'nodes' must be a mapping with an 'id'");
  EXPECT_EQ(errorOf(withNodes("  - { id: src, from: src }\n")),
            "job.yaml:5: duplicate id 'src' (first used on line 3)");
  EXPECT_EQ(errorOf(withNodes("  - { id: out, from: src }\n")),
            "job.yaml:7: duplicate id 'out' (first used on line 5)");
  ASSERT_OK(parse(withNodes("  - { id: _a-b_2, from: src }\n")).status());
}

TEST(JobSpecTest, ValidatesFrom) {
  EXPECT_EQ(errorOf(withNodes("  - { id: a, from: [srcc] }\n")),
            "job.yaml:5: node 'a': 'from' names unknown node 'srcc' (sources and nodes: src, a)");
  EXPECT_EQ(errorOf(withNodes("  - { id: a, from: [out] }\n")),
            "job.yaml:5: node 'a': 'from' names sink 'out', which has no output");
  EXPECT_EQ(errorOf(withNodes("  - { id: a }\n")), "job.yaml:5: node 'a' needs 'from': the streams it reads");
  EXPECT_EQ(errorOf(withNodes("  - { id: a, from: [] }\n")), "job.yaml:5: node 'a': 'from' is empty");
  EXPECT_THAT(errorOf(withNodes("  - { id: a, from: [src.] }\n")),
              HasSubstr("job.yaml:5: node 'a': 'from' entry 'src.' is not a stream name"));
  EXPECT_THAT(errorOf(withNodes("  - { id: a, from: {src: 1} }\n")),
              HasSubstr("'from' must be a stream name or a list of them"));
  EXPECT_EQ(errorOf("name: q\nsources:\n  - { id: s, type: generator, from: x }\nsinks: [{id: o, from: s}]\n"),
            "job.yaml:3: source 's' does not take 'from'; a source reads from outside the job");
  EXPECT_EQ(errorOf("name: q\nsources: [{id: s}]\nsinks:\n  - { id: o, from: [s, nope.late] }\n"),
            "job.yaml:4: sink 'o': 'from' names unknown node 'nope' (sources and nodes: s)");
  // Tags are checked by the planner, not here.
  ASSERT_OK(parse(withNodes("  - { id: a, from: [src.anything, a2.late] }\n  - { id: a2, from: src }\n")).status());
}

TEST(JobSpecTest, DetectsCycles) {
  EXPECT_EQ(errorOf(withNodes("  - { id: a, from: [a] }\n")), "job.yaml:5: nodes form a cycle: a -> a");
  EXPECT_EQ(errorOf(withNodes("  - { id: a, from: [src, c] }\n"
                              "  - { id: b, from: [a] }\n"
                              "  - { id: c, from: [b.late] }\n")),
            "job.yaml:5: nodes form a cycle: a -> b -> c -> a");
}

TEST(JobSpecTest, ValidatesParallelism) {
  EXPECT_EQ(errorOf(withNodes("  - { id: x, from: src, parallelism: 0 }\n")),
            "job.yaml:5: node 'x': parallelism must be a positive integer, got 0");
  EXPECT_EQ(errorOf(withNodes("  - { id: x, from: src, parallelism: two }\n")),
            "job.yaml:5: node 'x': parallelism must be a positive integer, got two");
  EXPECT_THAT(errorOf(withNodes("  - { id: x, from: src, parallelism: -3 }\n")), HasSubstr("got -3"));
  EXPECT_THAT(errorOf(withNodes("  - { id: x, from: src, parallelism: 99999999999 }\n")),
              HasSubstr("must be a positive integer"));
  EXPECT_THAT(errorOf("name: q\nsources: [{id: s, parallelism: [1]}]\nsinks: [{id: o, from: s}]\n"),
              HasSubstr("source 's': parallelism must be a positive integer, got a list or mapping"));
  ASSERT_OK_AND_ASSIGN(JobSpec job,
                       parse(withNodes("  - { id: x, from: src, parallelism: \"${p}\" }\n"), {{"p", "12"}}));
  EXPECT_EQ(job.nodes[0].parallelism, 12);
}

TEST(JobSpecTest, AcceptsNestedConfigMaps) {
  const std::string text = R"(name: q
config:
  execution.checkpointing:
    interval: 200ms
    timeout: 1min
  state: { backend: { type: hashmap } }
  restart-strategy.type: none
sources: [{id: s}]
sinks: [{id: o, from: s}]
)";
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse(text));
  EXPECT_EQ(job.config.getDuration("execution.checkpointing.interval"), std::chrono::milliseconds(200));
  EXPECT_EQ(job.config.getDuration("execution.checkpointing.timeout"), std::chrono::milliseconds(60'000));
  EXPECT_EQ(job.config.get("state.backend.type"), "hashmap");
  EXPECT_EQ(job.config.get("restart-strategy.type"), "none");
}

TEST(JobSpecTest, ReportsConfigErrorsWithLine) {
  EXPECT_EQ(errorOf("name: q\nconfig:\n  execution:\n    checkpointing.intervall: 1s\n"),
            "job.yaml:4: unknown configuration key 'execution.checkpointing.intervall' (did you mean "
            "'execution.checkpointing.interval'?)");
  EXPECT_EQ(errorOf("name: q\nconfig: { parallelism.default: abc }\n"),
            "job.yaml:2: configuration key 'parallelism.default': expected a positive integer, got 'abc'");
  EXPECT_EQ(errorOf("name: q\nconfig:\n  parallelism.default:\n"),
            "job.yaml:3: configuration key 'parallelism.default' has no value");
  EXPECT_EQ(errorOf("name: q\nconfig: [a]\n"), "job.yaml:2: configuration must be a mapping of keys to values");
}

TEST(JobSpecTest, LoadsFromAFile) {
  testing::TempDir directory;
  std::string path = directory.file("q.yaml");
  testing::writeFile(path, "name: q\nsources: [{id: s, path: \"${in}\"}]\nsinks: [{id: o, from: s}]\n");
  ASSERT_OK_AND_ASSIGN(JobSpec job, loadJobSpec(path, {{"in", "/x"}}));
  EXPECT_EQ(job.path, path);
  EXPECT_EQ(job.sources[0].options["path"].as<std::string>(), "/x");

  Result<JobSpec> unset = loadJobSpec(path, {});
  EXPECT_EQ(unset.status().message(), path + ":2: parameter 'in' is not set; pass --set in=VALUE");

  Result<JobSpec> missing = loadJobSpec(directory.file("missing.yaml"), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.yaml' does not exist"));
}

TEST(JobSpecTest, ParsesPlugins) {
  const std::string nodesAndSinks =
      "sources:\n"
      "  - { id: src, type: generator }\n"
      "sinks:\n"
      "  - { id: out, from: [src], type: discard }\n";
  ASSERT_OK_AND_ASSIGN(JobSpec job, parse("name: t\n"
                                          "plugins:\n"
                                          "  - {name: example, path: ${plugin}}\n"
                                          "  - {name: other, path: /lib/other.so}\n" +
                                              nodesAndSinks,
                                          {{"plugin", "/x/libexample.so"}}));
  ASSERT_EQ(job.plugins.size(), 2u);
  EXPECT_EQ(job.plugins[0].name, "example");
  EXPECT_EQ(job.plugins[0].path, "/x/libexample.so");
  EXPECT_EQ(job.plugins[0].line, 3);
  EXPECT_EQ(job.plugins[1].name, "other");
  EXPECT_TRUE(parse("name: t\n" + nodesAndSinks)->plugins.empty());

  EXPECT_EQ(errorOf("name: t\nplugins: {name: a}\n" + nodesAndSinks),
            "job.yaml:2: 'plugins' must be a list of {name: ..., path: ...} entries");
  EXPECT_EQ(errorOf("name: t\nplugins: [{name: a, path: /a.so, kind: x}]\n" + nodesAndSinks),
            "job.yaml:2: plugins: unknown key 'kind' (expected name, path)");
  EXPECT_EQ(errorOf("name: t\nplugins: [{path: /a.so}]\n" + nodesAndSinks),
            "job.yaml:2: plugins: every plugin needs a 'name' of letters, digits, '_' and '-', starting with a letter");
  EXPECT_EQ(errorOf("name: t\nplugins: [{name: a}]\n" + nodesAndSinks),
            "job.yaml:2: plugin 'a' needs a 'path' to its shared library");
  EXPECT_EQ(errorOf("name: t\nplugins:\n  - {name: a, path: /a.so}\n  - {name: a, path: /b.so}\n" + nodesAndSinks),
            "job.yaml:4: duplicate plugin name 'a' (first used on line 3)");
}

TEST(JobSpecTest, ParsesStreamRefs) {
  EXPECT_EQ(parseStreamRef("events.bid"), (StreamRef{"events", "bid"}));
  EXPECT_EQ(parseStreamRef("counts"), (StreamRef{"counts", ""}));
  EXPECT_EQ(parseStreamRef("a.b.c"), (StreamRef{"a", "b.c"}));
  EXPECT_EQ(parseStreamRef("events.bid").toString(), "events.bid");
  EXPECT_EQ(parseStreamRef("counts").toString(), "counts");
}

}  // namespace
}  // namespace sluice
