// Runs the Nexmark example jobs through the real `sluice` binary on the embedded
// cluster and compares the committed output with the expected rows.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

struct NexmarkCase {
  std::string query;
  int parallelism;
};

void PrintTo(const NexmarkCase& param, std::ostream* out) { *out << param.query << " at -p " << param.parallelism; }

class NexmarkLocalTest : public ::testing::TestWithParam<NexmarkCase> {};

TEST_P(NexmarkLocalTest, ProducesExpectedRows) {
  const NexmarkCase& param = GetParam();
  TempDir dir;
  std::string output = dir.file("out");
  std::string source = std::string(SLUICE_SOURCE_DIR);
  auto result = runProcess({binary("sluice"), "run", "--local", "-p", std::to_string(param.parallelism),
                            source + "/examples/nexmark/" + param.query + ".yaml", "--set",
                            "events=" + testDataDir() + "/nexmark/events.jsonl", "--set", "output=" + output});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.err.find("records in"), std::string::npos) << result.err;
  auto expected = readLines(testDataDir() + "/nexmark/expected/" + param.query + ".jsonl");
  auto actual = readCommittedLines(output);
  EXPECT_EQ(compareJsonRows(expected, actual), "");
  // Nothing may be left uncommitted (hidden in-progress files) after a finished job.
  for (const auto& entry : std::filesystem::directory_iterator(output)) {
    EXPECT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
  }
}

/// Every example query at parallelism 1, 2 and 4.
std::vector<NexmarkCase> allCases() {
  std::vector<NexmarkCase> cases;
  for (const char* query : {"q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"}) {
    for (int parallelism : {1, 2, 4}) cases.push_back({query, parallelism});
  }
  return cases;
}

std::string caseName(const ::testing::TestParamInfo<NexmarkCase>& info) {
  return info.param.query + "_p" + std::to_string(info.param.parallelism);
}

INSTANTIATE_TEST_SUITE_P(Queries, NexmarkLocalTest, ::testing::ValuesIn(allCases()), caseName);

}  // namespace
}  // namespace sluice::testing
