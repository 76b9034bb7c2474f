// The flagship payment-risk jobs beyond one process: F1 and F2 on a job manager
// and two worker processes at -p 4, and with checkpoints after a worker is
// SIGKILLed mid-run (exactly the expected alerts and counters); plus the
// generated-input job (examples/payments/risk-generated.yaml) end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

const std::string kSource = SLUICE_SOURCE_DIR;
const std::string kData = kSource + "/tests/data/payments";

/// Alerts in (ts_ms, txn_id) order.
std::vector<nlohmann::json> sortedAlerts(const std::vector<std::string>& lines) {
  return sortedJsonRows(lines, {"ts_ms", "txn_id"});
}

/// Empty when the committed alerts equal `expected` (one JSON row per line, any order).
std::string compareAlerts(const std::vector<std::string>& expectedLines, const std::string& directory) {
  auto expected = sortedAlerts(expectedLines);
  auto actual = sortedAlerts(readCommittedLines(directory));
  if (actual.size() != expected.size()) {
    return "expected " + std::to_string(expected.size()) + " alerts, got " + std::to_string(actual.size());
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    std::string difference = compareJsonValues(expected[i], actual[i], "alert " + std::to_string(i));
    if (!difference.empty()) return difference;
  }
  return "";
}

/// The stats file without its optional in-engine latency summary (not part of
/// the spec; when present it must count every alert).
nlohmann::json specStats(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "no stats file " << path;
  if (!file.good()) return nullptr;
  nlohmann::json stats = nlohmann::json::parse(file, nullptr, false);
  if (stats.is_object() && stats.contains("latency_ms")) {
    EXPECT_EQ(stats["latency_ms"]["alerts"], stats["alerts"]) << stats.dump();
    stats.erase("latency_ms");
  }
  return stats;
}

bool hasCommittedPart(const std::string& directory) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.path().filename().string().rfind("part-", 0) == 0) return true;
  }
  return false;
}

/// `sluice run` arguments of F1 ("fixed") or F2 ("online") on the sample, writing under `out`.
std::vector<std::string> paymentsJob(const std::string& variant, const std::string& out) {
  std::vector<std::string> arguments = {
      kSource + "/examples/payments/" + (variant == "fixed" ? "risk.yaml" : "risk-online.yaml"),
      "--set",
      "transactions=" + kData + "/events.csv",
      "--set",
      "output=" + out + "/alerts",
      "--set",
      "late=" + out + "/late",
      "--set",
      "stats=" + out + "/stats.json",
      "--set",
      "model=" + kData + "/model.json",
      "--set",
      "rules=" + kSource + "/examples/payments/rules.json"};
  if (variant == "online") {
    for (const char* setting : {"maturity_ms=604800000", "publish_ms=3600000"}) {
      arguments.push_back("--set");
      arguments.push_back(setting);
    }
  }
  return arguments;
}

/// Alerts, stats and late records of a run under `out` against the expected files.
void expectExact(const std::string& variant, const std::string& out) {
  EXPECT_EQ(compareAlerts(readLines(kData + "/expected/alerts_" + variant + ".jsonl"), out + "/alerts"), "");
  nlohmann::json expected = readJsonFile(kData + "/expected/stats_" + variant + ".json");
  EXPECT_EQ(compareJsonValues(expected, specStats(out + "/stats.json"), "stats"), "");
  EXPECT_EQ(static_cast<int64_t>(readCommittedLines(out + "/late").size()), expected["late"].get<int64_t>());
  // Only the stats file itself: no temporary file of an attempt is left behind.
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_TRUE(entry.is_directory() || entry.path().filename() == "stats.json") << entry.path();
  }
}

class PaymentsClusterTest : public ::testing::TestWithParam<std::string> {
 protected:
  TempDir scratch_;
};

TEST_P(PaymentsClusterTest, TwoWorkersAtParallelismFourMatchTheExpectedFiles) {
  const std::string& variant = GetParam();
  TestCluster cluster;
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  const std::string out = scratch_.file("out");
  std::vector<std::string> arguments = {"run", "-p", "4"};
  for (const auto& argument : paymentsJob(variant, out)) arguments.push_back(argument);
  auto result = cluster.client(arguments, std::chrono::seconds(120));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  auto status = cluster.status(TestCluster::jobIdFrom(result.out));
  EXPECT_EQ(status.value("state", ""), "FINISHED") << status.dump();
  EXPECT_EQ(TestCluster::workersOf(status).size(), 2u) << "the job should span both workers: " << status.dump();
  expectExact(variant, out);
}

TEST_P(PaymentsClusterTest, WorkerKilledMidRunRecoversToTheExactAlertsAndCounters) {
  const std::string& variant = GetParam();
  TestCluster cluster("heartbeat.timeout: 1500ms\nheartbeat.interval: 200ms\nstate.checkpoints.dir: " +
                      scratch_.file("checkpoints") + "\n");
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 2);
  ChildProcess& doomed = cluster.startWorker("worker-b", 2);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);
  const std::string out = scratch_.file("out");
  // 54,440 lines through the single CSV reader at 5,000 per second: about 11 s.
  std::vector<std::string> arguments = {"run", "-d",
                                        "-p",  "4",
                                        "-D",  "execution.checkpointing.interval=200ms",
                                        "-D",  "sluice.source.rate-limit=5000",
                                        "-D",  "restart-strategy.type=fixed-delay",
                                        "-D",  "restart-strategy.fixed-delay.delay=200ms",
                                        "-D",  "restart-strategy.fixed-delay.attempts=5"};
  for (const auto& argument : paymentsJob(variant, out)) arguments.push_back(argument);
  auto submitted = cluster.client(arguments);
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  const std::string jobId = TestCluster::jobIdFrom(submitted.out);
  auto running = cluster.waitForState(jobId, {"RUNNING"});
  ASSERT_EQ(running.value("state", ""), "RUNNING") << running.dump();
  ASSERT_EQ(TestCluster::workersOf(running).count("worker-b"), 1u) << running.dump();

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!hasCommittedPart(out + "/alerts") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(hasCommittedPart(out + "/alerts")) << "no committed alerts before the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto beforeKill = cluster.status(jobId);
  ASSERT_EQ(beforeKill.value("state", ""), "RUNNING") << "the job ended before the kill: " << beforeKill.dump();
  ASSERT_TRUE(beforeKill["checkpoints"]["latest"].is_number()) << beforeKill.dump();
  // The stats file appears only when the job has seen all its input.
  EXPECT_FALSE(fs::exists(out + "/stats.json"));
  doomed.kill(SIGKILL);
  cluster.startWorker("worker-c", 2);

  auto finished = cluster.waitForState(jobId, {"FINISHED", "FAILED", "CANCELED"}, std::chrono::seconds(60));
  ASSERT_EQ(finished.value("state", ""), "FINISHED") << finished.dump();
  EXPECT_GE(finished["restarts"].get<int>(), 1);
  ASSERT_TRUE(finished["restored_from"].is_number()) << finished.dump();
  EXPECT_GE(finished["restored_from"].get<int64_t>(), 1);
  expectExact(variant, out);
}

INSTANTIATE_TEST_SUITE_P(Variants, PaymentsClusterTest, ::testing::Values("fixed", "online"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

/// The generated-input job equals risk.yaml on the CSV that sluice-payments-gen
/// writes for the same options, its alerts catch injected fraud, and its
/// counters agree with the files.
TEST(PaymentsGeneratedTest, GeneratedSourceMatchesTheCsvOfTheSameSeed) {
  TempDir dir;
  const std::vector<std::string> options = {"--accounts", "300", "--merchants", "60", "--days", "3", "--seed", "11"};
  std::vector<std::string> generate = {binary("sluice-payments-gen"), "--out", dir.file("csv"), "--quiet"};
  generate.insert(generate.end(), options.begin(), options.end());
  auto generated = runProcess(generate);
  ASSERT_EQ(generated.exitCode, 0) << generated.err;

  auto run = [&](const std::vector<std::string>& job, const std::string& out) {
    std::vector<std::string> argv = {binary("sluice"), "run", "--local", "-p", "2"};
    argv.insert(argv.end(), job.begin(), job.end());
    for (const std::string& setting :
         {"output=" + out + "/alerts", "late=" + out + "/late", "stats=" + out + "/stats.json",
          "model=" + kData + "/model.json", "rules=" + kSource + "/examples/payments/rules.json"}) {
      argv.push_back("--set");
      argv.push_back(setting);
    }
    auto result = runProcess(argv, std::chrono::seconds(60));
    EXPECT_EQ(result.exitCode, 0) << result.err;
  };
  const std::string fromGenerator = dir.file("generated");
  const std::string fromCsv = dir.file("csv-run");
  run({kSource + "/examples/payments/risk-generated.yaml", "--set", "accounts=300", "--set", "merchants=60", "--set",
       "days=3", "--set", "seed=11"},
      fromGenerator);
  run({kSource + "/examples/payments/risk.yaml", "--set", "transactions=" + dir.file("csv") + "/events.csv"}, fromCsv);

  auto alerts = readCommittedLines(fromGenerator + "/alerts");
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(compareAlerts(readCommittedLines(fromCsv + "/alerts"), fromGenerator + "/alerts"), "");
  nlohmann::json stats = specStats(fromGenerator + "/stats.json");
  EXPECT_EQ(compareJsonValues(specStats(fromCsv + "/stats.json"), stats, "stats"), "");

  // Counters against the files: every T of events.csv is either scored or late.
  int64_t transactions = 0;
  for (const std::string& line : readLines(dir.file("csv") + "/events.csv")) transactions += line.rfind("T,", 0) == 0;
  int64_t lateTransactions = 0;
  for (const std::string& line : readCommittedLines(fromGenerator + "/late")) {
    lateTransactions += nlohmann::json::parse(line)["type"] == "T";
  }
  EXPECT_EQ(stats["txns"].get<int64_t>() + lateTransactions, transactions) << stats.dump();
  EXPECT_EQ(stats["alerts"].get<int64_t>(), static_cast<int64_t>(alerts.size()));
  EXPECT_EQ(stats["late"].get<int64_t>(), static_cast<int64_t>(readCommittedLines(fromGenerator + "/late").size()));
  EXPECT_EQ(stats["model_updates"].get<int64_t>(), 0);

  // The alerts catch injected fraud: most BLOCKs are fraud by truth.csv.
  std::set<uint64_t> fraud;
  for (const std::string& line : readLines(dir.file("csv") + "/truth.csv")) {
    auto comma = line.find(',');
    if (comma != std::string::npos && line.compare(comma, 3, ",1,") == 0)
      fraud.insert(std::stoull(line.substr(0, comma)));
  }
  ASSERT_FALSE(fraud.empty());
  int64_t blocks = 0;
  int64_t fraudBlocks = 0;
  for (const std::string& line : alerts) {
    nlohmann::json alert = nlohmann::json::parse(line);
    if (alert["decision"] != "BLOCK") continue;
    ++blocks;
    fraudBlocks += fraud.count(alert["txn_id"].get<uint64_t>());
  }
  EXPECT_GT(blocks, 0);
  EXPECT_GE(2 * fraudBlocks, blocks) << fraudBlocks << " of " << blocks << " blocks are injected fraud";
}

}  // namespace
}  // namespace sluice::testing
