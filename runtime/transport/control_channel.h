// ZeroMQ endpoints for control messages: the job manager's ROUTER server, the
// DEALER connection of a worker, and a one-shot request for clients.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "runtime/base/result.h"
#include "runtime/transport/control_codec.h"

namespace sluice::transport {

/// Splits "host:port" (a port of 0 is allowed); errors name the text.
Result<std::pair<std::string, int>> parseHostPort(const std::string& text);

/// The job manager's endpoint. One I/O thread owns the ROUTER socket; it calls
/// `handler` for every valid message (invalid ones are logged and dropped) and
/// sends what `send` queued. ROUTER_MANDATORY is set, so a reply to a peer
/// that is gone is reported, never silently dropped; LINGER is 0.
class ControlServer {
 public:
  using Handler = std::function<void(const std::string& peer, ControlMessage message)>;
  /// Called on the I/O thread every `tickInterval` (e.g. to check heartbeats).
  using Tick = std::function<void()>;

  /// Binds tcp://bindAddress:port (0 = a free port) and starts the I/O thread.
  static Result<std::unique_ptr<ControlServer>> start(
      const std::string& bindAddress, int port, Handler handler, Tick tick = nullptr,
      std::chrono::milliseconds tickInterval = std::chrono::milliseconds(100));
  ~ControlServer();

  /// The port actually bound.
  int port() const { return port_; }
  /// Queues `message` for `peer`; thread-safe.
  void send(const std::string& peer, ControlMessage message);
  void stop();

 private:
  ControlServer() = default;
  void run();

  void* context_ = nullptr;
  void* socket_ = nullptr;
  int wakeFd_ = -1;
  int port_ = 0;
  Handler handler_;
  Tick tick_;
  std::chrono::milliseconds tickInterval_{100};
  std::mutex mutex_;
  std::deque<std::pair<std::string, std::string>> outbound_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// A long-lived DEALER connection to the job manager (used by workers). Its I/O
/// thread delivers incoming messages to `handler` and sends queued ones.
class ControlConnection {
 public:
  using Handler = std::function<void(ControlMessage message)>;
  /// Called on the I/O thread, first right after connecting, then every tick
  /// interval; receives the connection so it can send before `connect` returns.
  using Tick = std::function<void(ControlConnection& connection)>;

  static Result<std::unique_ptr<ControlConnection>> connect(
      const std::string& hostPort, Handler handler, Tick tick = nullptr,
      std::chrono::milliseconds tickInterval = std::chrono::milliseconds(100));
  ~ControlConnection();

  /// Queues a message; thread-safe.
  void send(ControlMessage message);
  void stop();

 private:
  ControlConnection() = default;
  void run();

  void* context_ = nullptr;
  void* socket_ = nullptr;
  int wakeFd_ = -1;
  Handler handler_;
  Tick tick_;
  std::chrono::milliseconds tickInterval_{100};
  std::mutex mutex_;
  std::deque<std::string> outbound_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// Sends one request to the job manager at `hostPort` and waits for its reply.
/// An unreachable job manager is an Unavailable error after `timeout`, never a hang.
Result<Reply> requestReply(const std::string& hostPort, ControlBody request,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace sluice::transport
