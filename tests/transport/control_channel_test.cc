#include "runtime/transport/control_channel.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace sluice::transport {
namespace {

TEST(ControlCodecTest, RoundTripsADeployment) {
  DeployTasks deploy;
  deploy.jobId = "abc";
  deploy.attempt = 3;
  deploy.job.jobText = "name: x\n";
  deploy.job.parameters = {{"events", "/tmp/e"}, {"output", "/tmp/o"}};
  deploy.job.parallelism = 4;
  deploy.placements.push_back({"events", 1, "worker-1", "tcp://127.0.0.1:5000"});
  std::string bytes = encodeControl(ControlMessage{17, deploy});
  ASSERT_OK_AND_ASSIGN(auto decoded, decodeControl(bytes.data(), bytes.size()));
  EXPECT_EQ(decoded.requestId, 17u);
  const auto& back = std::get<DeployTasks>(decoded.body);
  EXPECT_EQ(back.jobId, "abc");
  EXPECT_EQ(back.attempt, 3u);
  EXPECT_EQ(back.job.parameters.at("output"), "/tmp/o");
  ASSERT_EQ(back.placements.size(), 1u);
  EXPECT_EQ(back.placements[0].dataEndpoint, "tcp://127.0.0.1:5000");
}

TEST(ControlCodecTest, RoundTripsAnAcknowledgementWithItsTimings) {
  AcknowledgeCheckpoint ack{"job", 2, 41, TaskRef{"window", 3}, "{}", true, 7, 1000, 300, 55, 12, 930};
  std::string bytes = encodeControl(ControlMessage{0, ack});
  ASSERT_OK_AND_ASSIGN(auto decoded, decodeControl(bytes.data(), bytes.size()));
  const auto& back = std::get<AcknowledgeCheckpoint>(decoded.body);
  EXPECT_EQ(back.checkpointId, 41);
  EXPECT_EQ(back.task, (TaskRef{"window", 3}));
  EXPECT_TRUE(back.finished);
  EXPECT_EQ(back.alignmentMs, 7);
  EXPECT_EQ(back.sizeBytes, 1000);
  EXPECT_EQ(back.incrementalSizeBytes, 300);
  EXPECT_EQ(back.syncMs, 55);
  EXPECT_EQ(back.asyncMs, 12);
  EXPECT_EQ(back.startDelayMs, 930);
}

TEST(ControlCodecTest, RejectsGarbageAndTruncation) {
  std::string bytes = encodeControl(ControlMessage{1, Heartbeat{"w"}});
  for (size_t cut = 0; cut < bytes.size(); cut += 8) {
    EXPECT_FALSE(decodeControl(bytes.data(), cut).ok()) << cut;
  }
  std::string garbage(64, '\xff');
  EXPECT_FALSE(decodeControl(garbage.data(), garbage.size()).ok());
}

TEST(ControlChannelTest, RequestReplyOverLoopback) {
  std::unique_ptr<ControlServer> server;
  ControlServer* raw = nullptr;
  auto started = ControlServer::start("127.0.0.1", 0, [&](const std::string& peer, ControlMessage message) {
    if (auto* status = std::get_if<StatusRequest>(&message.body)) {
      raw->send(peer, ControlMessage{message.requestId, Reply{true, "", "job " + status->jobId}});
    }
  });
  ASSERT_OK(started.status());
  server = std::move(started).value();
  raw = server.get();
  ASSERT_OK_AND_ASSIGN(Reply reply, requestReply("127.0.0.1:" + std::to_string(server->port()), StatusRequest{"j1"}));
  EXPECT_TRUE(reply.ok);
  EXPECT_EQ(reply.payload, "job j1");
}

TEST(ControlChannelTest, UnreachableJobManagerTimesOutWithClearError) {
  auto result = requestReply("127.0.0.1:1", ListRequest{}, std::chrono::milliseconds(300));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("127.0.0.1:1"), std::string::npos);
  EXPECT_FALSE(parseHostPort("nohostport").ok());
  EXPECT_FALSE(parseHostPort("h:99999").ok());
}

}  // namespace
}  // namespace sluice::transport

namespace sluice::transport {
namespace {

TEST(ControlChannelTest, PeerOfAnotherProtocolVersionIsRefusedWithAReason) {
  std::string bytes = encodeControl(ControlMessage{1, RegisterWorker{"w", 2, "tcp://x:1"}});
  // The envelope's data section starts after the segment table (8 bytes) and the
  // root pointer (8 bytes); the version is its first field.
  bytes[16] = 99;
  auto decoded = decodeControl(bytes.data(), bytes.size());
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("version 99"), std::string::npos) << decoded.status().toString();
}

}  // namespace
}  // namespace sluice::transport
