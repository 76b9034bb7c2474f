// The example plugin job end to end through `sluice run --local`: exact results
// at parallelism 1 and 3, and plugin errors as one-line CLI failures.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

const std::string kSourceDir = SLUICE_SOURCE_DIR;
const std::string kJob = kSourceDir + "/examples/plugin/dedup.yaml";

class PluginJobTest : public ::testing::Test {
 protected:
  ProcessResult run(const std::string& job, int parallelism, const std::string& plugin) {
    return runProcess({binary("sluice"), "run", "--local", "-p", std::to_string(parallelism), job, "--set",
                       "plugin=" + plugin, "--set", "events=" + kSourceDir + "/examples/plugin/clicks.jsonl", "--set",
                       "output=" + directory_.file("out-" + std::to_string(runs_++))},
                      std::chrono::seconds(120), directory_.path().string());
  }

  void expectOneLineError(const ProcessResult& result, const std::string& expected) {
    EXPECT_GT(result.exitCode, 0) << "signal " << result.signal;
    EXPECT_NE(result.err.find(expected), std::string::npos) << "stderr: " << result.err;
    EXPECT_LE(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }

  /// kJob with `from` replaced by `to`.
  std::string editedJob(const std::string& from, const std::string& to) {
    std::string text = readFile(kJob);
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    std::string path = directory_.file("job-" + std::to_string(runs_) + ".yaml");
    writeFile(path, text);
    return path;
  }

  TempDir directory_;
  int runs_ = 0;
};

TEST_F(PluginJobTest, ExampleJobGivesExactResultsAtAnyParallelism) {
  const auto expectedWindows = readLines(kSourceDir + "/tests/plugin/data/expected_windows.jsonl");
  const auto expectedDuplicates = readLines(kSourceDir + "/tests/plugin/data/expected_duplicates.jsonl");
  ASSERT_EQ(expectedWindows.size(), 10u);
  ASSERT_EQ(expectedDuplicates.size(), 25u);
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE("parallelism " + std::to_string(parallelism));
    std::string output = directory_.file("out-" + std::to_string(runs_));
    ProcessResult result = run(kJob, parallelism, SLUICE_EXAMPLE_PLUGIN);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(compareJsonRows(expectedWindows, readCommittedLines(output + "/windows")), "");
    EXPECT_EQ(compareJsonRows(expectedDuplicates, readCommittedLines(output + "/duplicates")), "");
  }
}

TEST_F(PluginJobTest, PluginErrorsFailAtLoadWithOneLine) {
  expectOneLineError(run(kJob, 1, "/x/libx.so"),
                     "plugin 'example': cannot open '/x/libx.so': No such file or directory");
  expectOneLineError(
      run(kJob, 1, SLUICE_WRONG_VERSION_PLUGIN),
      "plugin 'example' was built against plugin API version 2, this engine speaks version 1; rebuild it");
  expectOneLineError(run(editedJob("operator: label", "operator: lable"), 1, SLUICE_EXAMPLE_PLUGIN),
                     "node 'tagged': plugin 'example' has no operator 'lable' (it has: dedup, label)");
}

}  // namespace
}  // namespace sluice::testing
