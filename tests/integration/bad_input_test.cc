// Hostile and broken peers against a real cluster: garbage, wrong frame counts
// and oversized messages on the control and data ports, a worker of another
// protocol version, and a worker killed mid-job.
#include <sys/mman.h>
#include <zmq.h>

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/transport/control_codec.h"
#include "tests/integration/test_cluster.h"
#include "tests/testing/jsonl_compare.h"

namespace sluice::testing {
namespace {

/// Limits set on the receiving sockets (control_channel.cc, data_plane.cc).
constexpr size_t kControlLimit = size_t{64} << 20;
constexpr size_t kDataLimit = size_t{1} << 30;

/// A raw ZeroMQ DEALER, as an attacker or a broken peer would use, with a
/// monitor that reports when the other side drops the connection.
class RawDealer {
 public:
  explicit RawDealer(const std::string& endpoint) : context_(zmq_ctx_new()) {
    socket_ = zmq_socket(context_, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &zero, sizeof(zero));
    std::string monitorEndpoint = "inproc://monitor";
    zmq_socket_monitor(socket_, monitorEndpoint.c_str(), ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED);
    monitor_ = zmq_socket(context_, ZMQ_PAIR);
    zmq_setsockopt(monitor_, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_connect(monitor_, monitorEndpoint.c_str());
    connected_ = zmq_connect(socket_, endpoint.c_str()) == 0;
  }
  ~RawDealer() {
    zmq_socket_monitor(socket_, nullptr, 0);
    zmq_close(monitor_);
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  RawDealer(const RawDealer&) = delete;
  RawDealer& operator=(const RawDealer&) = delete;

  bool connected() const { return connected_; }

  /// Sends one message of the given frames.
  bool send(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i) {
      int flags = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
      if (zmq_send(socket_, frames[i].data(), frames[i].size(), flags) < 0) return false;
    }
    return true;
  }

  /// Sends one frame of `size` zero bytes without committing that much memory:
  /// the bytes are untouched anonymous pages, released when ZeroMQ is done.
  bool sendZeros(size_t size) {
    void* bytes = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (bytes == MAP_FAILED) return false;
    zmq_msg_t message;
    auto release = [](void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); };
    zmq_msg_init_data(&message, bytes, size, release, reinterpret_cast<void*>(size));
    if (zmq_msg_send(&message, socket_, 0) < 0) {
      zmq_msg_close(&message);
      return false;
    }
    return true;
  }

  /// Waits for a monitor event of `kind`; true when it came within `timeout`.
  bool waitForEvent(int kind, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      zmq_pollitem_t items[1] = {{monitor_, 0, ZMQ_POLLIN, 0}};
      if (zmq_poll(items, 1, static_cast<long>(left.count())) <= 0) continue;
      zmq_msg_t header;
      zmq_msg_init(&header);
      zmq_msg_recv(&header, monitor_, 0);
      uint16_t event = 0;
      if (zmq_msg_size(&header) >= sizeof(event)) std::memcpy(&event, zmq_msg_data(&header), sizeof(event));
      zmq_msg_close(&header);
      zmq_msg_t address;  // the second frame names the endpoint
      zmq_msg_init(&address);
      zmq_msg_recv(&address, monitor_, 0);
      zmq_msg_close(&address);
      if (event == kind) return true;
    }
  }

  /// The next control message from the peer, decoded; an error after `timeout`.
  Result<transport::ControlMessage> receiveControl(std::chrono::milliseconds timeout) {
    zmq_pollitem_t items[1] = {{socket_, 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 1, static_cast<long>(timeout.count())) <= 0) {
      return Status::unavailable("no answer within " + std::to_string(timeout.count()) + " ms");
    }
    zmq_msg_t message;
    zmq_msg_init(&message);
    zmq_msg_recv(&message, socket_, 0);
    auto decoded = transport::decodeControl(zmq_msg_data(&message), zmq_msg_size(&message));
    zmq_msg_close(&message);
    return decoded;
  }

 private:
  void* context_;
  void* socket_ = nullptr;
  void* monitor_ = nullptr;
  bool connected_ = false;
};

/// Sends garbage, a message of three frames, an empty frame and one oversized
/// message (`limit` + 1 bytes) to `endpoint`, checking the last one costs the
/// sender its connection.
void sendBadInputs(const std::string& endpoint, size_t limit) {
  RawDealer dealer(endpoint);
  ASSERT_TRUE(dealer.connected()) << endpoint;
  ASSERT_TRUE(dealer.waitForEvent(ZMQ_EVENT_CONNECTED, std::chrono::seconds(5))) << endpoint;
  ASSERT_TRUE(dealer.send({"this is not a Sluice message"}));
  ASSERT_TRUE(dealer.send({std::string(64, '\x07')}));  // whole words, still garbage
  ASSERT_TRUE(dealer.send({"one", "two", "three"}));
  ASSERT_TRUE(dealer.send({""}));
  ASSERT_TRUE(dealer.sendZeros(limit + 1));
  EXPECT_TRUE(dealer.waitForEvent(ZMQ_EVENT_DISCONNECTED, std::chrono::seconds(10)))
      << endpoint << ": an oversized message should drop the sender's connection";
}

/// One source subtask feeding two sink subtasks, so records cross between the
/// workers and the survivor's source blocks on the lost worker's channel.
const char* kEndlessJob = R"(name: endless
sources:
  - {id: gen, type: generator, count: 100000000, keys: 50, interval_ms: 1, parallelism: 1}
sinks:
  - {id: out, from: [gen], type: discard, parallelism: 2}
)";

class BadInputTest : public ::testing::Test {
 protected:
  /// Runs Nexmark q5 at parallelism `parallelism` and checks its exact rows.
  void runQ5(int parallelism, const std::string& name) {
    std::string output = cluster_.dir().file(name);
    std::vector<std::string> arguments = {"run", "-p", std::to_string(parallelism)};
    auto nexmark = TestCluster::nexmarkArguments("q5", output);
    arguments.insert(arguments.end(), nexmark.begin(), nexmark.end());
    auto result = cluster_.client(arguments);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(compareJsonRows(readLines(testDataDir() + "/nexmark/expected/q5.jsonl"), readCommittedLines(output)), "");
  }

  TestCluster cluster_;
};

TEST_F(BadInputTest, GarbageWrongFramesAndOversizedMessagesAreDroppedAndTheClusterKeepsWorking) {
  ASSERT_TRUE(cluster_.startJobManager());
  cluster_.startWorker("worker-0", 2);
  cluster_.startWorker("worker-1", 2);
  ASSERT_EQ(cluster_.waitForWorkers(2), 2u);
  auto workers = cluster_.workers();
  std::string dataEndpoint = workers[0]["data_endpoint"];

  sendBadInputs("tcp://" + cluster_.address(), kControlLimit);
  sendBadInputs(dataEndpoint, kDataLimit);

  // The same raw peer may come back with a well-formed request and is served.
  RawDealer dealer("tcp://" + cluster_.address());
  ASSERT_TRUE(dealer.send({transport::encodeControl(transport::ControlMessage{7, transport::ListRequest{}})}));
  auto answer = dealer.receiveControl(std::chrono::seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status().toString();
  auto* reply = std::get_if<transport::Reply>(&answer->body);
  ASSERT_NE(reply, nullptr);
  EXPECT_TRUE(reply->ok) << reply->error;

  // Nothing was taken for a worker, and data still flows between both workers.
  EXPECT_EQ(cluster_.waitForWorkers(2), 2u);
  runQ5(4, "out-q5");
  auto list = cluster_.client({"list", "--json"});
  auto jobs = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(jobs.is_array() && jobs.size() == 1) << list.out;
  EXPECT_EQ(TestCluster::workersOf(cluster_.status(jobs[0]["id"])), (std::set<std::string>{"worker-0", "worker-1"}));
  EXPECT_NE(cluster_.jobManager()->err().find("dropping a control message"), std::string::npos)
      << cluster_.jobManager()->err();
  std::string workerLogs = cluster_.workerProcesses()[0]->err() + cluster_.workerProcesses()[1]->err();
  EXPECT_NE(workerLogs.find("dropping a data message"), std::string::npos) << workerLogs;
}

TEST_F(BadInputTest, WorkerOfAnotherProtocolVersionIsRefusedNamingTheVersion) {
  ASSERT_TRUE(cluster_.startJobManager());
  std::string bytes = transport::encodeControl(
      transport::ControlMessage{1, transport::RegisterWorker{"worker-from-the-future", 2, "tcp://127.0.0.1:1"}});
  // The envelope's data section starts after the segment table (8 bytes) and the
  // root pointer (8 bytes); the version is its first field.
  ASSERT_EQ(bytes[16], static_cast<char>(transport::kControlProtocolVersion));
  bytes[16] = 99;
  RawDealer dealer("tcp://" + cluster_.address());
  ASSERT_TRUE(dealer.send({bytes}));
  auto answer = dealer.receiveControl(std::chrono::seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status().toString();
  auto* reply = std::get_if<transport::Reply>(&answer->body);
  ASSERT_NE(reply, nullptr) << "expected a Reply";
  EXPECT_FALSE(reply->ok);
  EXPECT_NE(reply->error.find("version 99"), std::string::npos) << reply->error;

  auto list = cluster_.client({"list"});
  EXPECT_EQ(list.exitCode, 0) << list.err;
  auto workers = cluster_.workers();
  ASSERT_TRUE(workers.is_array());
  EXPECT_TRUE(workers.empty()) << workers.dump();
}

TEST_F(BadInputTest, KilledWorkerFailsTheJobNamingItAndTheOtherWorkerRunsTheNextJob) {
  ASSERT_TRUE(cluster_.startJobManager());
  cluster_.startWorker("worker-0", 2);
  ChildProcess& doomed = cluster_.startWorker("worker-1", 2);
  ASSERT_EQ(cluster_.waitForWorkers(2), 2u);
  auto submitted = cluster_.client({"run", "-d", "-p", "2", "-D", "sluice.source.rate-limit=2000", "-D",
                                    "restart-strategy.type=none", cluster_.writeJob("endless.yaml", kEndlessJob)});
  ASSERT_EQ(submitted.exitCode, 0) << submitted.err;
  std::string jobId = TestCluster::jobIdFrom(submitted.out);
  auto running = cluster_.waitForState(jobId, {"RUNNING", "FAILED", "FINISHED", "CANCELED"});
  ASSERT_EQ(running["state"], "RUNNING") << running.dump();
  ASSERT_EQ(TestCluster::workersOf(running), (std::set<std::string>{"worker-0", "worker-1"})) << running.dump();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let records flow between the workers

  auto killedAt = std::chrono::steady_clock::now();
  doomed.kill(SIGKILL);
  auto failed = cluster_.waitForState(jobId, {"FAILED", "FINISHED", "CANCELED", "RESTARTING"}, std::chrono::seconds(10),
                                      std::chrono::milliseconds(20));
  auto detectedAfter = std::chrono::steady_clock::now() - killedAt;
  ASSERT_EQ(failed["state"], "FAILED") << failed.dump();
  std::string failure = failed["failure"].is_string() ? failed["failure"].get<std::string>() : "";
  EXPECT_NE(failure.find("worker-1"), std::string::npos) << failure;
  // The heartbeat timeout is 1.5 s; allow the job manager's tick and the polling.
  EXPECT_LT(detectedAfter, std::chrono::milliseconds(1500 + 1000));

  auto workers = cluster_.workers();
  ASSERT_TRUE(workers.is_array() && workers.size() == 1) << workers.dump();
  EXPECT_EQ(workers[0]["id"], "worker-0");
  EXPECT_EQ(workers[0]["free_slots"], 2) << workers.dump();
  runQ5(2, "out-q5-after-loss");
  auto list = cluster_.client({"list", "--json"});
  auto jobs = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(jobs.is_array() && jobs.size() == 2) << list.out;
  EXPECT_EQ(jobs[1]["state"], "FINISHED");
  EXPECT_EQ(TestCluster::workersOf(jobs[1]), (std::set<std::string>{"worker-0"}));
  std::printf("lost worker detected after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(detectedAfter).count()));
}

}  // namespace
}  // namespace sluice::testing
