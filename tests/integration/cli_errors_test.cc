// Bad input to the `sluice` binary: each case must give a clear one-line error
// naming what is wrong and a non-zero exit, never a crash.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

const char* kGoodJob = R"(name: small
sources:
  - id: events
    type: file
    format: jsonl
    path: ${events}
    schema: {id: int64, name: string, ts: timestamp}
    event_time: ts
nodes:
  - {id: pick, from: [events], filter: "id > 1", select: {id: id, name: upper(name)}}
sinks:
  - {id: out, from: [pick], type: file, path: ${output}}
)";

class CliErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(
        dir_.file("events.jsonl"),
        "{\"id\":1,\"name\":\"a\",\"ts\":1}\n{\"id\":2,\"name\":\"b\",\"ts\":2}\n{\"id\":3,\"name\":\"c\",\"ts\":3}\n");
  }

  /// Writes `job` and runs `sluice run --local` on it with extra arguments.
  ProcessResult run(const std::string& job, std::vector<std::string> extra = {}, std::vector<std::string> before = {}) {
    writeFile(dir_.file("job.yaml"), job);
    std::vector<std::string> argv = {binary("sluice"), "run", "--local"};
    argv.insert(argv.end(), before.begin(), before.end());
    argv.push_back(dir_.file("job.yaml"));
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runProcess(argv, std::chrono::seconds(60), dir_.path().string());
  }
  std::vector<std::string> defaults() {
    return {"--set", "events=" + dir_.file("events.jsonl"), "--set", "output=" + dir_.file("out")};
  }
  static std::string replace(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }
  static void expectOneLineError(const ProcessResult& result, const std::string& needle) {
    EXPECT_NE(result.exitCode, 0);
    EXPECT_GT(result.exitCode, 0) << "killed by signal " << result.signal;
    EXPECT_EQ(result.signal, 0);
    EXPECT_NE(result.err.find(needle), std::string::npos) << "stderr: " << result.err;
    // The error is one line (logs of other levels are off by default).
    auto newlines = std::count(result.err.begin(), result.err.end(), '\n');
    EXPECT_LE(newlines, 1) << result.err;
  }

  TempDir dir_;
};

TEST_F(CliErrorsTest, GoodJobRuns) {
  auto result = run(kGoodJob, defaults());
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out.size(), 33u) << "job id line: " << result.out;
}

TEST_F(CliErrorsTest, MalformedYaml) { expectOneLineError(run("name: [unclosed\n", defaults()), "job.yaml"); }

TEST_F(CliErrorsTest, UnknownFieldInExpression) {
  expectOneLineError(run(replace(kGoodJob, "id > 1", "idd > 1"), defaults()), "unknown field 'idd'");
}

TEST_F(CliErrorsTest, UnknownFunction) {
  expectOneLineError(run(replace(kGoodJob, "upper(name)", "shout(name)"), defaults()), "shout");
}

TEST_F(CliErrorsTest, TypeError) {
  expectOneLineError(run(replace(kGoodJob, "id > 1", "name + 1"), defaults()), "pick");
}

TEST_F(CliErrorsTest, MissingInputFile) {
  expectOneLineError(run(kGoodJob, {"--set", "events=" + dir_.file("nope.jsonl"), "--set", "output=" + dir_.file("o")}),
                     "nope.jsonl");
}

TEST_F(CliErrorsTest, MissingJobFile) {
  auto result = runProcess({binary("sluice"), "run", "--local", dir_.file("absent.yaml")});
  expectOneLineError(result, "absent.yaml");
}

TEST_F(CliErrorsTest, UnsetParameter) {
  expectOneLineError(run(kGoodJob, {"--set", "events=" + dir_.file("events.jsonl")}), "output");
}

TEST_F(CliErrorsTest, UnknownConfigKey) {
  expectOneLineError(run(kGoodJob, defaults(), {"-D", "parallelism.defualt=2"}), "parallelism.defualt");
}

TEST_F(CliErrorsTest, BadFlag) {
  auto result = runProcess({binary("sluice"), "run", "--local", "--frobnicate", "x.yaml"});
  expectOneLineError(result, "frobnicate");
  EXPECT_EQ(result.exitCode, 2);
}

TEST_F(CliErrorsTest, NonPositiveParallelism) {
  expectOneLineError(run(kGoodJob, defaults(), {"-p", "0"}), "-p");
  expectOneLineError(run(replace(kGoodJob, "{id: pick,", "{id: pick, parallelism: -1,"), defaults()), "parallelism");
}

TEST_F(CliErrorsTest, CorruptInputLine) {
  writeFile(dir_.file("events.jsonl"), "{\"id\":1,\"name\":\"a\",\"ts\":1}\n{\"id\":2,\"name\n");
  expectOneLineError(run(kGoodJob, defaults()), "events.jsonl:2");
}

TEST_F(CliErrorsTest, OutputDirectoryWithCommittedFiles) {
  writeFile(dir_.file("out/part-0-0.jsonl"), "{}\n");
  expectOneLineError(run(kGoodJob, defaults()), "part-");
}

TEST_F(CliErrorsTest, HelpWorks) {
  auto result = runProcess({binary("sluice"), "--help"});
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_NE(result.out.find("run"), std::string::npos);
  result = runProcess({binary("sluice"), "run", "--help"});
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_NE(result.out.find("--set"), std::string::npos);
}

}  // namespace
}  // namespace sluice::testing
