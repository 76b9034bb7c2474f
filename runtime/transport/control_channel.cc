#include "runtime/transport/control_channel.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "runtime/base/logging.h"
#include "runtime/transport/socket_setup.h"

namespace sluice::transport {
namespace {

using detail::drainWake;
using detail::signalWake;

/// The largest control message a socket accepts. Control messages carry job
/// text and status, far below this; a peer that sends more (by mistake or
/// malice) has its connection dropped by ZeroMQ instead of exhausting memory.
constexpr int64_t kMaxControlMessageBytes = int64_t{64} << 20;

void setCommonOptions(void* socket) { detail::setSocketOptions(socket, kMaxControlMessageBytes); }

/// Receives every frame of one message (non-blocking); returns false if none.
bool receiveFrames(void* socket, std::vector<std::string>& frames) {
  frames.clear();
  while (true) {
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, socket, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&part);
      return !frames.empty();
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
    bool more = zmq_msg_more(&part);
    zmq_msg_close(&part);
    if (!more) return true;
  }
}

std::string zmqError() { return zmq_strerror(zmq_errno()); }

}  // namespace

Result<std::pair<std::string, int>> parseHostPort(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::invalidArgument("expected HOST:PORT, got '" + text + "'");
  }
  int port = -1;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [rest, error] = std::from_chars(begin, end, port);
  if (error != std::errc() || rest != end || port < 0 || port > 65535) {
    return Status::invalidArgument("bad port in '" + text + "'");
  }
  return std::make_pair(text.substr(0, colon), port);
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& bindAddress, int port, Handler handler,
                                                            Tick tick, std::chrono::milliseconds tickInterval) {
  std::unique_ptr<ControlServer> server(new ControlServer());
  server->handler_ = std::move(handler);
  server->tick_ = std::move(tick);
  server->tickInterval_ = tickInterval;
  server->context_ = zmq_ctx_new();
  server->socket_ = zmq_socket(server->context_, ZMQ_ROUTER);
  setCommonOptions(server->socket_);
  int one = 1;
  zmq_setsockopt(server->socket_, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
  std::string endpoint = "tcp://" + bindAddress + ":" + (port == 0 ? std::string("*") : std::to_string(port));
  if (zmq_bind(server->socket_, endpoint.c_str()) != 0) {
    std::string why = zmqError();
    zmq_close(server->socket_);
    zmq_ctx_term(server->context_);
    server->socket_ = nullptr;
    server->context_ = nullptr;
    return Status::ioError("cannot bind " + bindAddress + ":" + std::to_string(port) + ": " + why);
  }
  char last[256];
  size_t lastSize = sizeof(last);
  zmq_getsockopt(server->socket_, ZMQ_LAST_ENDPOINT, last, &lastSize);
  std::string bound(last);
  server->port_ = std::stoi(bound.substr(bound.rfind(':') + 1));
  server->wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  server->thread_ = std::thread([raw = server.get()] { raw->run(); });
  return server;
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  if (wakeFd_ >= 0) signalWake(wakeFd_);
  if (thread_.joinable()) thread_.join();
  if (socket_) zmq_close(socket_);
  if (context_) zmq_ctx_term(context_);
  if (wakeFd_ >= 0) close(wakeFd_);
  socket_ = context_ = nullptr;
  wakeFd_ = -1;
}

void ControlServer::send(const std::string& peer, ControlMessage message) {
  {
    std::lock_guard lock(mutex_);
    outbound_.emplace_back(peer, encodeControl(message));
  }
  signalWake(wakeFd_);
}

void ControlServer::run() {
  auto log = logger("transport");
  auto nextTick = std::chrono::steady_clock::now() + tickInterval_;
  std::vector<std::string> frames;
  while (!stopping_.load()) {
    zmq_pollitem_t items[2] = {{socket_, 0, ZMQ_POLLIN, 0}, {nullptr, wakeFd_, ZMQ_POLLIN, 0}};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextTick - std::chrono::steady_clock::now());
    zmq_poll(items, 2, std::max<long>(0, static_cast<long>(wait.count())));
    if (items[1].revents & ZMQ_POLLIN) drainWake(wakeFd_);
    while (receiveFrames(socket_, frames)) {
      if (frames.size() != 2) {
        log->warn("dropping a control message with {} frames", frames.size());
        continue;
      }
      auto decoded = decodeControl(frames[1].data(), frames[1].size());
      if (!decoded.ok()) {
        log->warn("dropping a control message: {}", decoded.status().toString());
        // A peer of another version gets told why, so it can exit with a clear message.
        if (decoded.status().code() == StatusCode::kInvalidArgument) {
          std::string reply = encodeControl(ControlMessage{0, Reply{false, decoded.status().message(), ""}});
          zmq_send(socket_, frames[0].data(), frames[0].size(), ZMQ_SNDMORE | ZMQ_DONTWAIT);
          zmq_send(socket_, reply.data(), reply.size(), ZMQ_DONTWAIT);
        }
        continue;
      }
      handler_(frames[0], std::move(decoded).value());
    }
    std::deque<std::pair<std::string, std::string>> sending;
    {
      std::lock_guard lock(mutex_);
      sending.swap(outbound_);
    }
    for (auto& [peer, payload] : sending) {
      if (zmq_send(socket_, peer.data(), peer.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
          zmq_send(socket_, payload.data(), payload.size(), ZMQ_DONTWAIT) < 0) {
        log->info("cannot deliver a control message to a peer that is gone: {}", zmqError());
      }
    }
    if (std::chrono::steady_clock::now() >= nextTick) {
      if (tick_) tick_();
      nextTick = std::chrono::steady_clock::now() + tickInterval_;
    }
  }
}

Result<std::unique_ptr<ControlConnection>> ControlConnection::connect(const std::string& hostPort, Handler handler,
                                                                      Tick tick,
                                                                      std::chrono::milliseconds tickInterval) {
  SLUICE_ASSIGN_OR_RETURN(auto address, parseHostPort(hostPort));
  std::unique_ptr<ControlConnection> connection(new ControlConnection());
  connection->handler_ = std::move(handler);
  connection->tick_ = std::move(tick);
  connection->tickInterval_ = tickInterval;
  connection->context_ = zmq_ctx_new();
  connection->socket_ = zmq_socket(connection->context_, ZMQ_DEALER);
  setCommonOptions(connection->socket_);
  std::string endpoint = "tcp://" + address.first + ":" + std::to_string(address.second);
  if (zmq_connect(connection->socket_, endpoint.c_str()) != 0) {
    std::string why = zmqError();
    return Status::invalidArgument("cannot connect to " + hostPort + ": " + why);
  }
  connection->wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  connection->thread_ = std::thread([raw = connection.get()] { raw->run(); });
  return connection;
}

ControlConnection::~ControlConnection() { stop(); }

void ControlConnection::stop() {
  if (stopping_.exchange(true)) return;
  if (wakeFd_ >= 0) signalWake(wakeFd_);
  if (thread_.joinable()) thread_.join();
  if (socket_) zmq_close(socket_);
  if (context_) zmq_ctx_term(context_);
  if (wakeFd_ >= 0) close(wakeFd_);
  socket_ = context_ = nullptr;
  wakeFd_ = -1;
}

void ControlConnection::send(ControlMessage message) {
  {
    std::lock_guard lock(mutex_);
    outbound_.push_back(encodeControl(message));
  }
  signalWake(wakeFd_);
}

void ControlConnection::run() {
  auto log = logger("transport");
  auto nextTick = std::chrono::steady_clock::now();
  std::vector<std::string> frames;
  while (!stopping_.load()) {
    std::deque<std::string> sending;
    {
      std::lock_guard lock(mutex_);
      sending.swap(outbound_);
    }
    for (auto& payload : sending) zmq_send(socket_, payload.data(), payload.size(), ZMQ_DONTWAIT);
    if (std::chrono::steady_clock::now() >= nextTick) {
      if (tick_) tick_(*this);
      nextTick = std::chrono::steady_clock::now() + tickInterval_;
    }
    zmq_pollitem_t items[2] = {{socket_, 0, ZMQ_POLLIN, 0}, {nullptr, wakeFd_, ZMQ_POLLIN, 0}};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextTick - std::chrono::steady_clock::now());
    zmq_poll(items, 2, std::max<long>(0, static_cast<long>(wait.count())));
    if (items[1].revents & ZMQ_POLLIN) drainWake(wakeFd_);
    while (receiveFrames(socket_, frames)) {
      auto decoded = decodeControl(frames.back().data(), frames.back().size());
      if (!decoded.ok()) {
        log->warn("dropping a control message from the job manager: {}", decoded.status().toString());
        continue;
      }
      handler_(std::move(decoded).value());
    }
  }
}

Result<Reply> requestReply(const std::string& hostPort, ControlBody request, std::chrono::milliseconds timeout) {
  SLUICE_ASSIGN_OR_RETURN(auto address, parseHostPort(hostPort));
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_DEALER);
  setCommonOptions(socket);
  auto cleanup = [&] {
    zmq_close(socket);
    zmq_ctx_term(context);
  };
  std::string endpoint = "tcp://" + address.first + ":" + std::to_string(address.second);
  if (zmq_connect(socket, endpoint.c_str()) != 0) {
    std::string why = zmqError();
    cleanup();
    return Status::invalidArgument("cannot connect to job manager at " + hostPort + ": " + why);
  }
  uint64_t requestId = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::string payload = encodeControl(ControlMessage{requestId, std::move(request)});
  zmq_send(socket, payload.data(), payload.size(), 0);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> frames;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    zmq_pollitem_t items[1] = {{socket, 0, ZMQ_POLLIN, 0}};
    zmq_poll(items, 1, static_cast<long>(left.count()));
    while (receiveFrames(socket, frames)) {
      auto decoded = decodeControl(frames.back().data(), frames.back().size());
      if (!decoded.ok()) {
        cleanup();
        return decoded.status();
      }
      if (auto* reply = std::get_if<Reply>(&decoded->body)) {
        if (decoded->requestId == requestId || decoded->requestId == 0) {
          Reply result = *reply;
          cleanup();
          return result;
        }
      }
    }
  }
  cleanup();
  return Status::unavailable("no answer from the job manager at " + hostPort + " within " +
                             std::to_string(timeout.count() / 1000.0).substr(0, 4) +
                             " s; is sluice-jobmanager running there? (set --jobmanager or SLUICE_JOBMANAGER)");
}

}  // namespace sluice::transport
