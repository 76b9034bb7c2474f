// Backpressure across processes: an unthrottled source feeds a sink ten times
// slower than it over the network between two workers; memory must stay flat
// and every record must arrive exactly once.
#include <string>
#include <vector>

#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRecords = 1000000;
/// Per sink subtask; two subtasks take 200k rows/s, so the run takes about 5 s
/// while the source alone produces the padded rows several times faster.
constexpr int kSinkRowsPerSecond = 100000;
/// Each row carries this many bytes of padding, so that buffering the stream
/// instead of pushing back (~400 MB) would exceed the memory bound.
constexpr int kPaddingBytes = 400;
constexpr int64_t kMaxMemoryGrowth = int64_t{256} << 20;

/// gen → pad (one subtask, on one worker) → rebalance over two subtasks of
/// `slow` (throttled discard) and `ids` → `out` (file sink of the ids), so half
/// of each stream crosses the network to the other worker.
std::string backpressureJob(const std::string& output) {
  return "name: backpressure\n"
         "sources:\n"
         "  - {id: gen, type: generator, count: " +
         std::to_string(kRecords) +
         ", keys: 1000, parallelism: 1}\n"
         "nodes:\n"
         "  - {id: pad, from: [gen], parallelism: 1, select: {id: id, pad: \"concat('" +
         std::string(kPaddingBytes, 'x') +
         "', to_string(id))\"}}\n"
         "  - {id: ids, from: [pad], parallelism: 2, select: {id: id}}\n"
         "sinks:\n"
         "  - {id: slow, from: [pad], type: discard, parallelism: 2, max_rows_per_second: " +
         std::to_string(kSinkRowsPerSecond) +
         "}\n"
         "  - {id: out, from: [ids], type: file, format: jsonl, path: " +
         output + "}\n";
}

/// Counts how often each id 0..kRecords-1 appears in `{"id":N}` lines; returns
/// a description of the first problems, or "" when each appears exactly once.
std::string checkEachIdOnce(const std::vector<std::string>& lines) {
  std::vector<uint8_t> seen(kRecords, 0);
  std::string problems;
  int reported = 0;
  auto report = [&](const std::string& text) {
    if (++reported <= 5) problems += text + "; ";
  };
  for (const std::string& line : lines) {
    auto colon = line.find(':');
    int64_t id = colon == std::string::npos ? -1 : std::atoll(line.c_str() + colon + 1);
    if (id < 0 || id >= kRecords) {
      report("unexpected line " + line);
    } else if (seen[id]++ > 0) {
      report("id " + std::to_string(id) + " duplicated");
    }
  }
  for (int64_t id = 0; id < kRecords; ++id) {
    if (seen[id] == 0) report("id " + std::to_string(id) + " missing");
  }
  if (reported > 5) problems += std::to_string(reported - 5) + " more";
  return problems;
}

TEST(BackpressureTest, SlowSinkOnAnotherWorkerBoundsMemoryAndLosesNothing) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.startJobManager());
  cluster.startWorker("worker-a", 1);
  cluster.startWorker("worker-b", 1);
  ASSERT_EQ(cluster.waitForWorkers(2), 2u);

  std::vector<int> pids = {cluster.jobManager()->pid()};
  for (const auto& worker : cluster.workerProcesses()) pids.push_back(worker->pid());
  std::vector<int64_t> baseline;
  for (int pid : pids) baseline.push_back(residentBytes(pid));
  std::vector<int64_t> peak = baseline;

  std::string output = cluster.dir().file("out");
  auto started = std::chrono::steady_clock::now();
  auto submitted = cluster.client({"run", "-d", cluster.writeJob("job.yaml", backpressureJob(output))});
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);

  nlohmann::json status;
  std::chrono::steady_clock::duration sourceFinishedAfter{};
  auto deadline = started + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < pids.size(); ++i) peak[i] = std::max(peak[i], residentBytes(pids[i]));
    status = cluster.status(jobId);
    if (!status.is_object()) continue;
    if (sourceFinishedAfter == std::chrono::steady_clock::duration{}) {
      for (const auto& task : status["tasks"]) {
        if (task["node"] == "gen" && task["state"] == "FINISHED") {
          sourceFinishedAfter = std::chrono::steady_clock::now() - started;
        }
      }
    }
    if (status["state"] != "RUNNING" && status["state"] != "CREATED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(status["state"], "FINISHED") << status.dump() << cluster.workerProcesses()[0]->err()
                                         << cluster.workerProcesses()[1]->err();

  EXPECT_EQ(TestCluster::workersOf(status), (std::set<std::string>{"worker-a", "worker-b"})) << status.dump();
  int64_t slowRecords = 0;
  for (const auto& task : status["tasks"]) {
    if (task["node"] == "slow") slowRecords += task["records_out"].get<int64_t>();
  }
  EXPECT_EQ(slowRecords, kRecords) << status.dump();
  EXPECT_EQ(checkEachIdOnce(readCommittedLines(output)), "");

  int64_t growth = 0;
  std::string perProcess;
  for (size_t i = 0; i < pids.size(); ++i) {
    growth += peak[i] - baseline[i];
    perProcess += " " + std::to_string((peak[i] - baseline[i]) >> 20) + " MiB";
  }
  EXPECT_LT(growth, kMaxMemoryGrowth) << "resident memory grew by" << perProcess
                                      << " (job manager, worker-a, worker-b)";
  // The sink sets the pace: the run takes about kRecords / (2 * kSinkRowsPerSecond),
  // and the source cannot finish long before the sink does.
  double seconds = std::chrono::duration<double>(took).count();
  EXPECT_GT(seconds, 0.8 * kRecords / (2.0 * kSinkRowsPerSecond));
  EXPECT_GT(std::chrono::duration<double>(sourceFinishedAfter).count(), 0.6 * seconds)
      << "the source finished early: backpressure did not reach it";
  std::printf("backpressure run: %.1f s, source finished after %.1f s, memory growth%s\n", seconds,
              std::chrono::duration<double>(sourceFinishedAfter).count(), perProcess.c_str());
}

TEST(BackpressureTest, ThrottleOfTheDiscardSinkMustBePositive) {
  TempDir dir;
  for (const std::string rate : {"0", "-5", "fast"}) {
    writeFile(dir.file("job.yaml"),
              "name: bad-throttle\n"
              "sources:\n"
              "  - {id: gen, type: generator, count: 10}\n"
              "sinks:\n"
              "  - {id: slow, from: [gen], type: discard, max_rows_per_second: " +
                  rate + "}\n");
    auto result = runProcess({binary("sluice"), "run", "--local", dir.file("job.yaml")}, std::chrono::seconds(30));
    EXPECT_EQ(result.exitCode, 1) << rate;
    EXPECT_NE(result.err.find("sink 'slow'"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("max_rows_per_second"), std::string::npos) << result.err;
  }
}

}  // namespace
}  // namespace sluice::testing
