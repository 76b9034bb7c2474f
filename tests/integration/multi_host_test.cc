// A cluster over a real (virtual) network: the job manager and two workers each
// in their own network namespace, joined by veth pairs to a bridge in a fourth
// namespace, so no process can reach another over loopback.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

/// Namespace names start with this and the pid of the test that made them, so
/// leftovers of a crashed run can be told from those of a concurrent one.
constexpr const char* kNamespacePrefix = "sluice-mh";
/// Private addresses that exist only inside the namespaces this test creates.
constexpr const char* kJobManagerAddress = "10.231.0.1";
constexpr const char* kWorkerAddresses[] = {"10.231.0.2", "10.231.0.3"};

/// The iproute2 `ip` binary, or "" when it is not installed.
std::string ipBinary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

ProcessResult ip(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), ipBinary());
  return runProcess(arguments, std::chrono::seconds(20));
}

/// The names of our namespaces whose creating process is gone.
std::vector<std::string> leftoverNamespaces() {
  std::vector<std::string> leftovers;
  std::istringstream lines(ip({"netns", "list"}).out);
  std::string line;
  std::string prefix = std::string(kNamespacePrefix) + "-";
  while (std::getline(lines, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(prefix, 0) != 0) continue;
    int pid = std::atoi(name.c_str() + prefix.size());
    if (pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) leftovers.push_back(name);
  }
  return leftovers;
}

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      if (std::getenv("CI") != nullptr) FAIL() << "MultiHostTest must run as root in CI (it creates namespaces)";
      GTEST_SKIP() << "creating network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run as root";
    }
    ASSERT_NE(ipBinary(), "") << "iproute2's ip is not installed (scripts/install-deps.sh installs it)";
    for (const std::string& name : leftoverNamespaces()) (void)ip({"netns", "del", name});
    std::string base = std::string(kNamespacePrefix) + "-" + std::to_string(getpid());
    hub_ = base + "-hub";
    jobManagerHost_ = base + "-jm";
    workerHosts_ = {base + "-w1", base + "-w2"};
    for (const std::string& name : {hub_, jobManagerHost_, workerHosts_[0], workerHosts_[1]}) {
      (void)ip({"netns", "del", name});  // from an earlier test of this same process
      auto added = ip({"netns", "add", name});
      if (added.exitCode != 0) {
        bool denied = added.err.find("not permitted") != std::string::npos ||
                      added.err.find("ermission denied") != std::string::npos;
        if (std::getenv("CI") == nullptr && denied) {
          GTEST_SKIP() << "cannot create network namespaces here: " << added.err;
        }
        FAIL() << "ip netns add " << name << ": " << added.err;
      }
      created_.push_back(name);
    }
    run({"-n", hub_, "link", "add", "br0", "type", "bridge"});
    run({"-n", hub_, "link", "set", "br0", "up"});
    connect(jobManagerHost_, "port-jm", kJobManagerAddress);
    connect(workerHosts_[0], "port-w1", kWorkerAddresses[0]);
    connect(workerHosts_[1], "port-w2", kWorkerAddresses[1]);
  }

  void TearDown() override {
    cluster_.reset();  // kill the processes before their network goes away
    for (const std::string& name : created_) (void)ip({"netns", "del", name});
  }

  /// Runs `ip ARGS`, failing the test when it fails.
  void run(const std::vector<std::string>& arguments) {
    auto result = ip(arguments);
    ASSERT_EQ(result.exitCode, 0) << "ip " << ::testing::PrintToString(arguments) << ": " << result.err;
  }

  /// A veth pair from the hub's bridge (`port`) to eth0 of `host`, holding `address`/24.
  void connect(const std::string& host, const std::string& port, const std::string& address) {
    run({"-n", hub_, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host});
    run({"-n", hub_, "link", "set", port, "master", "br0"});
    run({"-n", hub_, "link", "set", port, "up"});
    run({"-n", host, "addr", "add", address + "/24", "dev", "eth0"});
    run({"-n", host, "link", "set", "eth0", "up"});
    run({"-n", host, "link", "set", "lo", "up"});
  }

  static std::vector<std::string> inside(const std::string& host) { return {ipBinary(), "netns", "exec", host}; }

  std::string hub_;
  std::string jobManagerHost_;
  std::vector<std::string> workerHosts_;
  std::vector<std::string> created_;
  std::unique_ptr<TestCluster> cluster_ = std::make_unique<TestCluster>();
};

TEST_F(MultiHostTest, RunsNexmarkQ5AcrossWorkersOnSeparateHosts) {
  TestCluster& cluster = *cluster_;
  ASSERT_TRUE(cluster.startJobManager(kJobManagerAddress, inside(jobManagerHost_)));
  for (int i = 0; i < 2; ++i) {
    cluster.startWorker("worker-" + std::to_string(i + 1), 2, inside(workerHosts_[i]),
                        {"--bind", kWorkerAddresses[i], "--advertise", kWorkerAddresses[i]});
  }
  ASSERT_EQ(cluster.waitForWorkers(2), 2u) << cluster.jobManager()->err();
  auto workers = cluster.workers();
  for (const auto& worker : workers) {
    std::string endpoint = worker["data_endpoint"];
    EXPECT_TRUE(endpoint.find(kWorkerAddresses[0]) != std::string::npos ||
                endpoint.find(kWorkerAddresses[1]) != std::string::npos)
        << endpoint;
  }

  std::string output = cluster.dir().file("out-q5");
  std::vector<std::string> arguments = {"run", "-p", "4"};
  auto nexmark = TestCluster::nexmarkArguments("q5", output);
  arguments.insert(arguments.end(), nexmark.begin(), nexmark.end());
  auto result = cluster.client(arguments);
  ASSERT_EQ(result.exitCode, 0) << result.err << cluster.workerProcesses()[0]->err()
                                << cluster.workerProcesses()[1]->err();
  EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q5.jsonl"), readCommittedLines(output)), "");

  auto list = cluster.client({"list", "--json"});
  ASSERT_EQ(list.exitCode, 0) << list.err;
  auto jobs = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(jobs.is_array() && jobs.size() == 1) << list.out;
  auto status = cluster.status(jobs[0]["id"]);
  EXPECT_EQ(status["state"], "FINISHED") << status.dump();
  EXPECT_EQ(TestCluster::workersOf(status), (std::set<std::string>{"worker-1", "worker-2"})) << status.dump();
}

}  // namespace
}  // namespace sluice::testing
