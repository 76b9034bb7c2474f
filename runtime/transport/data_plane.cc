#include "runtime/transport/data_plane.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <cstring>

#include "runtime/base/logging.h"
#include "runtime/transport/socket_setup.h"

namespace sluice::transport {
namespace {

using detail::drainWake;
using detail::signalWake;

/// The largest data message a socket accepts: far above any batch the record
/// writers produce (4096 rows), yet bounded, so a peer that sends more (by
/// mistake or malice) has its connection dropped by ZeroMQ instead of
/// exhausting memory. Other peers' connections are not affected.
constexpr int64_t kMaxDataMessageBytes = int64_t{1} << 30;

void setCommonOptions(void* socket) { detail::setSocketOptions(socket, kMaxDataMessageBytes); }

/// A ROUTER identity for logs: a Sluice peer's identity is its endpoint text;
/// anything else (ZeroMQ's generated binary ids) is shown in hex.
std::string printableIdentity(const std::string& identity) {
  bool printable = !identity.empty();
  for (unsigned char c : identity) printable &= c >= 0x20 && c < 0x7f;
  if (printable) return identity;
  static const char* kHex = "0123456789abcdef";
  std::string text = "0x";
  for (unsigned char c : identity) {
    text += kHex[c >> 4];
    text += kHex[c & 15];
  }
  return text;
}

/// Keeps a received zmq_msg_t alive for zero-copy column views.
struct ReceivedMessage {
  zmq_msg_t message;
  ReceivedMessage() { zmq_msg_init(&message); }
  ~ReceivedMessage() { zmq_msg_close(&message); }
  ReceivedMessage(const ReceivedMessage&) = delete;
  ReceivedMessage& operator=(const ReceivedMessage&) = delete;
};

}  // namespace

Result<std::unique_ptr<DataPlane>> DataPlane::start(const std::string& bindAddress, int port,
                                                    const std::string& advertiseHost) {
  std::unique_ptr<DataPlane> plane(new DataPlane());
  plane->context_ = zmq_ctx_new();
  plane->router_ = zmq_socket(plane->context_, ZMQ_ROUTER);
  setCommonOptions(plane->router_);
  int one = 1;
  zmq_setsockopt(plane->router_, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
  std::string bind = "tcp://" + bindAddress + ":" + (port == 0 ? std::string("*") : std::to_string(port));
  if (zmq_bind(plane->router_, bind.c_str()) != 0) {
    std::string why = zmq_strerror(zmq_errno());
    zmq_close(plane->router_);
    zmq_ctx_term(plane->context_);
    plane->router_ = plane->context_ = nullptr;
    return Status::ioError("cannot bind data endpoint " + bindAddress + ":" + std::to_string(port) + ": " + why);
  }
  char last[256];
  size_t lastSize = sizeof(last);
  zmq_getsockopt(plane->router_, ZMQ_LAST_ENDPOINT, last, &lastSize);
  std::string bound(last);
  std::string boundPort = bound.substr(bound.rfind(':') + 1);
  plane->endpoint_ = "tcp://" + (advertiseHost.empty() ? bindAddress : advertiseHost) + ":" + boundPort;
  plane->wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  plane->thread_ = std::thread([raw = plane.get()] { raw->run(); });
  return plane;
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, output] : outputs_) output->close();
  }
  if (wakeFd_ >= 0) signalWake(wakeFd_);
  if (thread_.joinable()) thread_.join();
  for (auto& [peer, dealer] : dealers_) zmq_close(dealer);
  dealers_.clear();
  if (router_) zmq_close(router_);
  if (context_) zmq_ctx_term(context_);
  if (wakeFd_ >= 0) close(wakeFd_);
  router_ = context_ = nullptr;
  wakeFd_ = -1;
}

void DataPlane::registerInput(const ChannelKey& key, LocalChannel* channel) {
  channel->setConsumedCallback([this, key] { grantCredit(key); });
  {
    std::lock_guard lock(mutex_);
    registrations_.emplace_back(key, channel);
  }
  // The I/O thread attaches the channel, so elements that arrived early are
  // delivered before any later one: the channel's order is kept.
  signalWake(wakeFd_);
}

void DataPlane::attachRegistrations() {
  std::vector<std::pair<ChannelKey, LocalChannel*>> registrations;
  {
    std::lock_guard lock(mutex_);
    registrations.swap(registrations_);
  }
  for (auto& [key, channel] : registrations) {
    std::deque<StreamElement> early;
    {
      std::lock_guard lock(mutex_);
      if (isClosed(key.jobKey, key.attempt)) continue;
      InputState& state = inputs_[key];
      state.channel = channel;
      early.swap(state.early);
    }
    // Early elements were sent within the sender's initial credit, so they fit.
    for (auto& element : early) ignoreError(channel->push(std::move(element)));
  }
}

std::unique_ptr<OutputChannel> DataPlane::openOutput(const std::string& peerEndpoint, const ChannelKey& key,
                                                     uint32_t initialCredits) {
  auto channel = std::make_unique<RemoteOutputChannel>(this, peerEndpoint, key, initialCredits);
  std::lock_guard lock(mutex_);
  outputs_[key] = channel.get();
  return channel;
}

bool DataPlane::isClosed(uint64_t jobKey, uint32_t attempt) const {
  auto found = closedUpTo_.find(jobKey);
  return found != closedUpTo_.end() && attempt <= found->second;
}

void DataPlane::closeJob(uint64_t jobKey, uint32_t attempt) {
  std::lock_guard lock(mutex_);
  auto& upTo = closedUpTo_[jobKey];
  upTo = std::max(upTo, attempt);
  for (auto it = outputs_.begin(); it != outputs_.end();) {
    if (it->first.jobKey == jobKey && it->first.attempt <= attempt) {
      it->second->close();
      it = outputs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = inputs_.begin(); it != inputs_.end();) {
    if (it->first.jobKey == jobKey && it->first.attempt <= attempt) {
      it = inputs_.erase(it);
    } else {
      ++it;
    }
  }
}

void DataPlane::enqueue(Outbound outbound) {
  bool wasEmpty;
  {
    std::lock_guard lock(mutex_);
    wasEmpty = outbound_.empty();
    outbound_.push_back(std::move(outbound));
  }
  // The I/O thread takes the whole queue after each wake-up, so a queue that was
  // not empty already has a wake-up pending: one eventfd write per hand-off.
  if (wasEmpty) signalWake(wakeFd_);
}

void DataPlane::grantCredit(const ChannelKey& key) {
  std::string identity;
  bool wasEmpty;
  {
    // Called under the consumer gate's lock; only takes our own lock briefly.
    std::lock_guard lock(mutex_);
    auto found = inputs_.find(key);
    if (found == inputs_.end() || found->second.senderIdentity.empty()) return;
    identity = found->second.senderIdentity;
    FrameHeader header{key.attempt, key.channelId, 0, key.jobKey};
    auto encoded = encodeCredit(CreditGrant{key.channelId, 1}, header);
    if (!encoded.ok()) return;
    wasEmpty = outbound_.empty();
    outbound_.push_back(Outbound{"", identity, std::move(encoded).value()});
  }
  if (wasEmpty) signalWake(wakeFd_);
}

void* DataPlane::dealerFor(const std::string& peer) {
  auto found = dealers_.find(peer);
  if (found != dealers_.end()) return found->second;
  void* dealer = zmq_socket(context_, ZMQ_DEALER);
  setCommonOptions(dealer);
  // The routing id tells the receiver where to send credits back.
  zmq_setsockopt(dealer, ZMQ_ROUTING_ID, endpoint_.data(), endpoint_.size());
  if (zmq_connect(dealer, peer.c_str()) != 0) {
    logger("transport")->error("cannot connect to data endpoint {}: {}", peer, zmq_strerror(zmq_errno()));
  }
  dealers_[peer] = dealer;
  return dealer;
}

void DataPlane::handleData(const std::string& identity, const uint8_t* data, size_t size,
                           std::shared_ptr<const void> owner) {
  auto decoded = decoder_.decode(data, size, std::move(owner));
  if (!decoded.ok()) {
    logger("transport")
        ->warn("dropping a data message from {}: {}", printableIdentity(identity), decoded.status().toString());
    dropped_.fetch_add(1);
    return;
  }
  if (decoded->isCredit()) return;
  ChannelKey key{decoded->header.jobKey, decoded->header.jobAttempt, decoded->header.channelId};
  LocalChannel* channel = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (isClosed(key.jobKey, key.attempt)) {
      dropped_.fetch_add(1);
      return;
    }
    InputState& state = inputs_[key];
    state.senderIdentity = identity;
    if (state.channel == nullptr) {
      state.early.push_back(std::move(decoded->element()));
      return;
    }
    channel = state.channel;
  }
  // Within credit: the channel has room, so this does not block the I/O thread.
  ignoreError(channel->push(std::move(decoded->element())));
}

void DataPlane::handleCredit(const uint8_t* data, size_t size) {
  auto decoded = decoder_.decode(data, size, nullptr);
  if (!decoded.ok() || !decoded->isCredit()) {
    dropped_.fetch_add(1);
    return;
  }
  ChannelKey key{decoded->header.jobKey, decoded->header.jobAttempt, decoded->credit().channelId};
  std::lock_guard lock(mutex_);
  auto found = outputs_.find(key);
  if (found != outputs_.end()) found->second->addCredits(decoded->credit().credits);
}

void DataPlane::run() {
  auto log = logger("transport");
  while (!stopping_.load()) {
    attachRegistrations();
    std::deque<Outbound> sending;
    {
      std::lock_guard lock(mutex_);
      sending.swap(outbound_);
    }
    for (auto& outbound : sending) {
      size_t size = outbound.message.size();
      uint8_t* bytes = outbound.message.release();
      zmq_msg_t message;
      zmq_msg_init_data(&message, bytes, size, &EncodedMessage::freeStorage, nullptr);
      if (!outbound.identity.empty()) {
        if (zmq_send(router_, outbound.identity.data(), outbound.identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_msg_send(&message, router_, ZMQ_DONTWAIT) < 0) {
          zmq_msg_close(&message);
          log->debug("credit for a sender that is gone");
        }
      } else {
        if (zmq_msg_send(&message, dealerFor(outbound.peer), 0) < 0) {
          zmq_msg_close(&message);
          log->warn("cannot send to {}: {}", outbound.peer, zmq_strerror(zmq_errno()));
        }
      }
    }

    std::vector<zmq_pollitem_t> items;
    std::vector<void*> dealers;
    items.push_back({router_, 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wakeFd_, ZMQ_POLLIN, 0});
    for (auto& [peer, dealer] : dealers_) {
      items.push_back({dealer, 0, ZMQ_POLLIN, 0});
      dealers.push_back(dealer);
    }
    zmq_poll(items.data(), static_cast<int>(items.size()), 100);
    if (items[1].revents & ZMQ_POLLIN) drainWake(wakeFd_);

    // Data (and nothing else) arrives on the ROUTER as [identity][message].
    while (true) {
      zmq_msg_t identity;
      zmq_msg_init(&identity);
      if (zmq_msg_recv(&identity, router_, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&identity);
        break;
      }
      std::string sender(static_cast<const char*>(zmq_msg_data(&identity)), zmq_msg_size(&identity));
      bool more = zmq_msg_more(&identity);
      zmq_msg_close(&identity);
      if (!more) {
        log->warn("dropping a data message without a body from {}", printableIdentity(sender));
        dropped_.fetch_add(1);
        continue;
      }
      auto received = std::make_shared<ReceivedMessage>();
      if (zmq_msg_recv(&received->message, router_, 0) < 0) break;
      // A peer of ours sends exactly one frame; anything else is not from a
      // Sluice worker, so the whole message is drained and dropped.
      size_t extraFrames = 0;
      for (bool moreFrames = zmq_msg_more(&received->message); moreFrames; ++extraFrames) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        moreFrames = zmq_msg_recv(&extra, router_, 0) >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
      }
      if (extraFrames > 0) {
        log->warn("dropping a data message of {} frames from {} (expected one)", extraFrames + 1,
                  printableIdentity(sender));
        dropped_.fetch_add(1);
        continue;
      }
      const auto* bytes = static_cast<const uint8_t*>(zmq_msg_data(&received->message));
      size_t size = zmq_msg_size(&received->message);
      handleData(sender, bytes, size, received);
    }
    // Credits arrive on the DEALERs.
    for (size_t i = 0; i < dealers.size(); ++i) {
      if (!(items[i + 2].revents & ZMQ_POLLIN)) continue;
      while (true) {
        zmq_msg_t message;
        zmq_msg_init(&message);
        if (zmq_msg_recv(&message, dealers[i], ZMQ_DONTWAIT) < 0) {
          zmq_msg_close(&message);
          break;
        }
        handleCredit(static_cast<const uint8_t*>(zmq_msg_data(&message)), zmq_msg_size(&message));
        zmq_msg_close(&message);
      }
    }
  }
}

RemoteOutputChannel::RemoteOutputChannel(DataPlane* plane, std::string peer, ChannelKey key, uint32_t credits)
    : plane_(plane), peer_(std::move(peer)), key_(key), credits_(credits) {}

RemoteOutputChannel::~RemoteOutputChannel() {
  std::lock_guard lock(plane_->mutex_);
  auto found = plane_->outputs_.find(key_);
  if (found != plane_->outputs_.end() && found->second == this) plane_->outputs_.erase(found);
}

void RemoteOutputChannel::addCredits(uint32_t credits) {
  {
    std::lock_guard lock(mutex_);
    credits_ += credits;
  }
  creditAvailable_.notify_all();
}

void RemoteOutputChannel::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  creditAvailable_.notify_all();
}

Status RemoteOutputChannel::push(StreamElement element) {
  uint64_t sequence;
  {
    std::unique_lock lock(mutex_);
    creditAvailable_.wait(lock, [&] { return closed_ || credits_ > 0; });
    if (closed_) return Status::cancelled("network channel closed");
    --credits_;
    sequence = sequence_++;
  }
  // Encoding happens on the sending task's thread, not on the I/O thread.
  FrameHeader header{key_.attempt, key_.channelId, sequence, key_.jobKey};
  SLUICE_ASSIGN_OR_RETURN(EncodedMessage encoded, encodeElement(element, header));
  plane_->enqueue(DataPlane::Outbound{peer_, "", std::move(encoded)});
  return Status::OK();
}

}  // namespace sluice::transport
