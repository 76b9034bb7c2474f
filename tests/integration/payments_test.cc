// Runs the flagship payment-risk jobs (examples/payments: F1 fixed model, F2
// online learning) through the real `sluice` binary on the embedded cluster,
// at several parallelisms, and compares alerts and counters with the expected
// files of tests/data/payments (integers exact, floats within 1e-6).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/testing/jsonl_compare.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {
namespace {

struct PaymentsCase {
  std::string variant;  // "fixed" (F1) or "online" (F2)
  int parallelism;
};

void PrintTo(const PaymentsCase& param, std::ostream* out) { *out << param.variant << " at -p " << param.parallelism; }

/// Alerts in (ts_ms, txn_id) order.
std::vector<nlohmann::json> sortedAlerts(const std::vector<std::string>& lines) {
  return sortedJsonRows(lines, {"ts_ms", "txn_id"});
}

class PaymentsLocalTest : public ::testing::TestWithParam<PaymentsCase> {};

TEST_P(PaymentsLocalTest, MatchesTheExpectedAlertsAndCounters) {
  const PaymentsCase& param = GetParam();
  TempDir dir;
  const std::string source = std::string(SLUICE_SOURCE_DIR);
  const std::string data = source + "/tests/data/payments";
  const std::string job =
      source + "/examples/payments/" + (param.variant == "fixed" ? "risk.yaml" : "risk-online.yaml");
  const std::string output = dir.file("alerts");
  const std::string late = dir.file("late");
  const std::string stats = dir.file("stats.json");
  std::vector<std::string> argv = {binary("sluice"),
                                   "run",
                                   "--local",
                                   "-p",
                                   std::to_string(param.parallelism),
                                   job,
                                   "--set",
                                   "transactions=" + data + "/events.csv",
                                   "--set",
                                   "output=" + output,
                                   "--set",
                                   "late=" + late,
                                   "--set",
                                   "stats=" + stats,
                                   "--set",
                                   "model=" + data + "/model.json",
                                   "--set",
                                   "rules=" + source + "/examples/payments/rules.json"};
  if (param.variant == "online") {
    for (const char* setting : {"maturity_ms=604800000", "publish_ms=3600000"}) {
      argv.push_back("--set");
      argv.push_back(setting);
    }
  }
  auto result = runProcess(argv, std::chrono::seconds(240));
  ASSERT_EQ(result.exitCode, 0) << result.err;

  auto expected = sortedAlerts(readLines(data + "/expected/alerts_" + param.variant + ".jsonl"));
  auto actual = sortedAlerts(readCommittedLines(output));
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    std::string difference = compareJsonValues(expected[i], actual[i], "alert " + std::to_string(i));
    ASSERT_EQ(difference, "") << actual[i].dump();
  }

  std::ifstream statsFile(stats);
  ASSERT_TRUE(statsFile.good()) << "no stats file " << stats;
  nlohmann::json actualStats = nlohmann::json::parse(statsFile);
  nlohmann::json expectedStats = readJsonFile(data + "/expected/stats_" + param.variant + ".json");
  // "latency_ms" (in-engine alert latency, not part of the spec) counts every
  // alert; the rest must be exactly the spec's counters.
  ASSERT_TRUE(actualStats.contains("latency_ms")) << actualStats.dump();
  const nlohmann::json& latency = actualStats["latency_ms"];
  EXPECT_EQ(latency["alerts"], expectedStats["alerts"]) << latency.dump();
  EXPECT_LE(latency["p50"].get<double>(), latency["p99"].get<double>()) << latency.dump();
  EXPECT_LE(latency["p99"].get<double>(), latency["p999"].get<double>()) << latency.dump();
  actualStats.erase("latency_ms");
  EXPECT_EQ(compareJsonValues(expectedStats, actualStats, "stats"), "");

  auto lateLines = readCommittedLines(late);
  EXPECT_EQ(static_cast<int64_t>(lateLines.size()), expectedStats["late"].get<int64_t>());
  for (const std::string& line : lateLines) {
    nlohmann::json record = nlohmann::json::parse(line);
    EXPECT_TRUE(record["type"] == "T" || record["type"] == "L") << line;
    EXPECT_TRUE(record.contains("txn_id") && record.contains("ts_ms")) << line;
  }
}

std::string caseName(const ::testing::TestParamInfo<PaymentsCase>& info) {
  return info.param.variant + "_p" + std::to_string(info.param.parallelism);
}

INSTANTIATE_TEST_SUITE_P(Variants, PaymentsLocalTest,
                         ::testing::Values(PaymentsCase{"fixed", 1}, PaymentsCase{"fixed", 4},
                                           PaymentsCase{"online", 1}, PaymentsCase{"online", 4}),
                         caseName);

TEST(PaymentsErrorsTest, MismatchedModelIsRefusedAtJobStart) {
  TempDir dir;
  const std::string source = std::string(SLUICE_SOURCE_DIR);
  std::string badModel = dir.file("model.json");
  std::ofstream(badModel) << R"({"format":"logreg-v1","bias":0,"features":["ln_cnt_10m"],"weights":[1]})";
  auto result = runProcess({binary("sluice"), "run", "--local", source + "/examples/payments/risk.yaml", "--set",
                            "transactions=" + source + "/tests/data/payments/events.csv", "--set",
                            "output=" + dir.file("out"), "--set", "late=" + dir.file("late"), "--set",
                            "stats=" + dir.file("stats.json"), "--set", "model=" + badModel});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("model lists 1 features"), std::string::npos) << result.err;
}

TEST(PaymentsErrorsTest, MalformedRuleFileIsRefusedAtJobStart) {
  TempDir dir;
  const std::string source = std::string(SLUICE_SOURCE_DIR);
  std::string badRules = dir.file("rules.json");
  std::ofstream(badRules)
      << R"({"format":"rules-v1","rules":[{"name":"X","action":"BLOCK","when":{"feature":"nope","op":">=","value":1}}]})";
  auto result =
      runProcess({binary("sluice"), "run", "--local", source + "/examples/payments/risk.yaml", "--set",
                  "transactions=" + source + "/tests/data/payments/events.csv", "--set", "output=" + dir.file("out"),
                  "--set", "late=" + dir.file("late"), "--set", "stats=" + dir.file("stats.json"), "--set",
                  "rules=" + badRules, "--set", "model=" + source + "/examples/payments/model.json"});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("unknown feature 'nope'"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace sluice::testing
