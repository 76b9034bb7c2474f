// Plugins travel with the job: the client uploads the libraries the job names,
// the job manager stores them under their content hash, workers fetch each
// version once. Real processes; the workers cannot see the client's files.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <thread>

#include "runtime/transport/control_channel.h"
#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> filesIn(const fs::path& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PluginShippingTest, ClientUploadsJobManagerStoresByHashWorkersFetchOnce) {
  TempDir scratch;
  const std::string source = SLUICE_SOURCE_DIR;
  // The client's working directory holds the plugin under a name of its choosing.
  fs::path clientDir = scratch.path() / "client";
  fs::create_directories(clientDir);
  fs::copy_file(SLUICE_EXAMPLE_PLUGIN, clientDir / "my plugin.so");

  const std::string jobManagerData = scratch.file("jobmanager");
  ChildProcess jobManager(
      {binary("sluice-jobmanager"), "--port", "0", "--data-dir", jobManagerData, "--log-level", "warn"});
  std::string port = jobManager.waitForFirstLine();
  ASSERT_FALSE(port.empty()) << jobManager.err();
  const std::string address = "127.0.0.1:" + port;
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (const std::string id : {"worker-a", "worker-b"}) {
    workers.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        binary("sluice-worker"), "--jobmanager", address, "--slots", "2", "--id", id, "--data-dir", scratch.file(id),
        "--heartbeat-interval-ms", "200", "--log-level", "info"}));
  }
  auto client = [&](const std::vector<std::string>& arguments) {
    std::vector<std::string> argv = {binary("sluice"), "--jobmanager", address};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return runProcess(argv, std::chrono::seconds(120), clientDir.string());
  };
  for (int i = 0; i < 100; ++i) {
    auto listed = nlohmann::json::parse(client({"workers", "--json"}).out, nullptr, false);
    if (listed.is_array() && listed.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    std::string output = scratch.file("out-" + std::to_string(run));
    auto result = client({"run", "-p", "3", source + "/examples/plugin/dedup.yaml", "--set", "plugin=my plugin.so",
                          "--set", "events=" + source + "/examples/plugin/clicks.jsonl", "--set", "output=" + output});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(compareJsonRows(readLines(source + "/tests/plugin/data/expected_windows.jsonl"),
                              readCommittedLines(output + "/windows")),
              "");
  }
  // Stored under the content hash, never the client's name.
  std::vector<std::string> stored = filesIn(fs::path(jobManagerData) / "plugins");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].size(), 32u + 3u) << stored[0];
  EXPECT_EQ(stored[0].find("my plugin"), std::string::npos);
  for (const std::string id : {"worker-a", "worker-b"}) {
    EXPECT_EQ(filesIn(fs::path(scratch.file(id)) / "plugins"), stored) << id;
  }
  // Each worker fetched the version once, though it ran two jobs.
  for (auto& worker : workers) worker->kill(SIGTERM);
  for (auto& worker : workers) {
    std::string log = worker->err();
    size_t fetches = 0;
    for (size_t at = log.find("fetched plugin"); at != std::string::npos; at = log.find("fetched plugin", at + 1)) {
      ++fetches;
    }
    EXPECT_EQ(fetches, 1u) << log;
  }
}

TEST(PluginShippingTest, MissingPluginFileIsAClearClientError) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.startJobManager());
  const std::string source = SLUICE_SOURCE_DIR;
  auto result = cluster.client({"run", source + "/examples/plugin/dedup.yaml", "--set", "plugin=/nonexistent/lib.so",
                                "--set", "events=x", "--set", "output=y"});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("plugin 'example': cannot open '/nonexistent/lib.so'"), std::string::npos) << result.err;
}

TEST(PluginShippingTest, WorkerCannotFetchAnythingButAStoredHash) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.startJobManager());
  // A fetch is answered only for a content hash, so no path can be smuggled in.
  auto reply = transport::requestReply(cluster.address(), transport::FetchPlugin{"../../etc/passwd"});
  ASSERT_TRUE(reply.ok()) << reply.status().toString();
  EXPECT_FALSE(reply->ok);
  EXPECT_NE(reply->error.find("not a plugin content hash"), std::string::npos) << reply->error;
}

}  // namespace
}  // namespace sluice::testing
