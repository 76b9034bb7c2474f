// Helpers shared by this module's ZeroMQ I/O threads: the eventfd that wakes a
// poll loop, and the socket options every Sluice socket uses. Internal to
// sluice::transport (includes libzmq); not part of its public API.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdint>

namespace sluice::transport::detail {

/// Wakes the poll loop that watches `fd` (an eventfd).
inline void signalWake(int fd) {
  uint64_t one = 1;
  ssize_t written = write(fd, &one, sizeof(one));
  (void)written;
}

/// Resets the eventfd after a wake-up.
inline void drainWake(int fd) {
  uint64_t value;
  ssize_t got = read(fd, &value, sizeof(value));
  (void)got;
}

/// LINGER 0 (shutdown never hangs), no high-water marks (credits and request
/// sizes bound what is in flight; ZeroMQ's marks would drop or block), and a
/// maximum message size, beyond which ZeroMQ drops the sender's connection
/// instead of letting it exhaust memory.
inline void setSocketOptions(void* socket, int64_t maxMessageBytes) {
  int zero = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof(zero));
  zmq_setsockopt(socket, ZMQ_SNDHWM, &zero, sizeof(zero));
  zmq_setsockopt(socket, ZMQ_RCVHWM, &zero, sizeof(zero));
  zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &maxMessageBytes, sizeof(maxMessageBytes));
}

}  // namespace sluice::transport::detail
