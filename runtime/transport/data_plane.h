// DataPlane: the one network I/O thread of a process that carries data channels
// between workers over ZeroMQ, with credit-based flow control per channel.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/task/local_channel.h"
#include "runtime/transport/batch_codec.h"

namespace sluice::transport {

/// Names one logical channel: the job, its attempt and the channel's number
/// (derived identically by sender and receiver from the job graph).
struct ChannelKey {
  uint64_t jobKey = 0;
  uint32_t attempt = 0;
  uint32_t channelId = 0;
  auto tie() const { return std::tie(jobKey, attempt, channelId); }
  bool operator<(const ChannelKey& other) const { return tie() < other.tie(); }
  bool operator==(const ChannelKey& other) const { return tie() == other.tie(); }
};

class RemoteOutputChannel;

/// Owns this process's data sockets on one I/O thread: a ROUTER that receives
/// data from every peer (and sends credits back), and one DEALER per peer it
/// sends data to (and receives credits on). Logical channels are multiplexed
/// over that one connection per pair of processes.
///
/// Flow control: a sender starts with `initialCredits` (the receiver's channel
/// capacity) and sends a message only while it has credit; the receiver grants
/// one credit each time its task takes an element from the channel. A receiver
/// therefore never blocks its socket, and a slow channel never blocks the others
/// on the same connection. Messages of other attempts than the registered one
/// are dropped as stale. Thread-safe.
class DataPlane {
 public:
  /// Binds tcp://bindAddress:port (0 = free port) and starts the I/O thread.
  /// `advertiseHost` is the host others connect to (default: bindAddress).
  static Result<std::unique_ptr<DataPlane>> start(const std::string& bindAddress, int port,
                                                  const std::string& advertiseHost = "");
  ~DataPlane();

  /// "tcp://host:port": where peers send data to this process.
  const std::string& endpoint() const { return endpoint_; }

  /// Delivers the elements of channel `key` into `channel` (whose capacity must
  /// be at least the sender's initial credit). Elements that arrived before
  /// registration are delivered now.
  void registerInput(const ChannelKey& key, LocalChannel* channel);

  /// A channel to `peerEndpoint` for `key`. `push` blocks without credit.
  std::unique_ptr<OutputChannel> openOutput(const std::string& peerEndpoint, const ChannelKey& key,
                                            uint32_t initialCredits);

  /// Forgets every channel of the job's attempts <= `attempt`: blocked senders
  /// return Cancelled, buffered and later messages of those attempts are dropped.
  void closeJob(uint64_t jobKey, uint32_t attempt);

  /// Messages dropped because they were stale or corrupt (for tests and metrics).
  int64_t droppedMessages() const { return dropped_.load(); }

  void stop();

 private:
  friend class RemoteOutputChannel;
  struct InputState {
    LocalChannel* channel = nullptr;
    std::string senderIdentity;
    std::deque<StreamElement> early;  // arrived before registration
  };
  struct Outbound {
    std::string peer;      // endpoint, for DEALER data
    std::string identity;  // ROUTER identity, for credits
    EncodedMessage message;
  };

  DataPlane() = default;
  void run();
  void attachRegistrations();  // I/O thread only
  void enqueue(Outbound outbound);
  void grantCredit(const ChannelKey& key);
  void handleData(const std::string& identity, const uint8_t* data, size_t size, std::shared_ptr<const void> owner);
  void handleCredit(const uint8_t* data, size_t size);
  bool isClosed(uint64_t jobKey, uint32_t attempt) const;  // REQUIRES: mutex_ held
  void* dealerFor(const std::string& peer);                // I/O thread only

  void* context_ = nullptr;
  void* router_ = nullptr;
  std::map<std::string, void*> dealers_;  // I/O thread only
  int wakeFd_ = -1;
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> dropped_{0};

  mutable std::mutex mutex_;
  std::deque<Outbound> outbound_;
  std::map<ChannelKey, InputState> inputs_;
  std::vector<std::pair<ChannelKey, LocalChannel*>> registrations_;
  std::map<ChannelKey, RemoteOutputChannel*> outputs_;
  std::map<uint64_t, uint32_t> closedUpTo_;  // jobKey → highest closed attempt
  MessageDecoder decoder_;                   // I/O thread only
};

/// The sending end of a network channel; created by DataPlane::openOutput.
class RemoteOutputChannel : public OutputChannel {
 public:
  RemoteOutputChannel(DataPlane* plane, std::string peer, ChannelKey key, uint32_t credits);
  ~RemoteOutputChannel() override;
  Status push(StreamElement element) override;

 private:
  friend class DataPlane;
  void addCredits(uint32_t credits);
  void close();

  DataPlane* plane_;
  std::string peer_;
  ChannelKey key_;
  std::mutex mutex_;
  std::condition_variable creditAvailable_;
  uint32_t credits_;
  bool closed_ = false;
  uint64_t sequence_ = 0;
};

}  // namespace sluice::transport
