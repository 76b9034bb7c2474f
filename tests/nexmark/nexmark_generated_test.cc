// Runs examples/nexmark/generated/*.yaml through the real `sluice` binary, and checks that q0 over the
// `nexmark` source produces the same rows as q0 over nexmark-file-generator's file for the same seed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

const std::string kSource = SLUICE_SOURCE_DIR;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(NexmarkGeneratedTest, QueryZeroMatchesTheFileGeneratorsEvents) {
  TempDir dir;
  const std::string events = dir.file("events.jsonl");
  auto generated = runProcess({binary("nexmark-file-generator"), "-n", "5000", "--seed", "11", "-o", events});
  ASSERT_EQ(generated.exitCode, 0) << generated.err;
  auto fromFile = runProcess({binary("sluice"), "run", "--local", "-p", "2", kSource + "/examples/nexmark/q0.yaml",
                              "--set", "events=" + events, "--set", "output=" + dir.file("from-file")});
  ASSERT_EQ(fromFile.exitCode, 0) << fromFile.err;

  // The generated job with its discard sink swapped for the file sink of ../q0.yaml.
  std::string job = readFile(kSource + "/examples/nexmark/generated/q0.yaml");
  const std::string discard = "type: discard}";
  const size_t at = job.find(discard);
  ASSERT_NE(at, std::string::npos);
  job.replace(at, discard.size(), "type: file, format: jsonl, path: ${output}}");
  const std::string jobPath = dir.file("q0.yaml");
  std::ofstream(jobPath) << job;
  auto fromSource = runProcess({binary("sluice"), "run", "--local", "-p", "3", jobPath, "--set", "events=5000", "--set",
                                "seed=11", "--set", "output=" + dir.file("from-source")});
  ASSERT_EQ(fromSource.exitCode, 0) << fromSource.err;

  const auto expected = readCommittedLines(dir.file("from-file"));
  EXPECT_EQ(expected.size(), 4600u);
  EXPECT_EQ(compareJsonRows(expected, readCommittedLines(dir.file("from-source"))), "");
}

TEST(NexmarkGeneratedTest, EveryGeneratedQueryRuns) {
  for (const char* query : {"q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"}) {
    auto result = runProcess({binary("sluice"), "run", "--local", "-p", "2",
                              kSource + "/examples/nexmark/generated/" + query + ".yaml", "--set", "events=20000"});
    EXPECT_EQ(result.exitCode, 0) << query << ": " << result.err;
    EXPECT_NE(result.err.find("records in"), std::string::npos) << query << ": " << result.err;
  }
}

}  // namespace
}  // namespace sluice::testing
