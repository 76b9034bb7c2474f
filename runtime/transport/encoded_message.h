// EncodedMessage: the bytes of one serialized stream message, ready to hand to a socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "runtime/data/buffer.h"

namespace sluice::transport {

class MessageWriter;

/// Owns one flat, single-segment Cap'n Proto message (segment table included) in a
/// malloc'd, 8-byte aligned block. The encoder builds the message directly in that
/// block, so sending it needs no further copy: pass `data()`/`size()` to a socket, or
/// `release()` the block to ZeroMQ together with `freeStorage` as its free function.
/// Move-only; not thread-safe, but may be moved to another thread.
class EncodedMessage {
 public:
  EncodedMessage() = default;
  EncodedMessage(EncodedMessage&& other) noexcept
      : storage_(std::move(other.storage_)), size_(std::exchange(other.size_, 0)) {}
  EncodedMessage& operator=(EncodedMessage&& other) noexcept {
    storage_ = std::move(other.storage_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  /// 8-byte aligned; nullptr when empty (default-constructed or released).
  const uint8_t* data() const { return storage_.get(); }
  /// A multiple of 8.
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Turns the message into a shared Buffer without copying (e.g. to decode it in
  /// process or keep it for a resend). Leaves this message empty.
  Buffer toBuffer() &&;

  /// Gives up ownership of the block for a zero-copy send; free it with
  /// `freeStorage(pointer, nullptr)`. Leaves this message empty.
  uint8_t* release();

  /// Frees a block returned by `release()`. The signature matches ZeroMQ's
  /// `zmq_free_fn`, so it can be passed to `zmq_msg_init_data` directly.
  static void freeStorage(void* data, void* hint);

 private:
  friend class MessageWriter;
  struct FreeDeleter {
    void operator()(uint8_t* data) const { freeStorage(data, nullptr); }
  };
  EncodedMessage(std::unique_ptr<uint8_t, FreeDeleter> storage, size_t size)
      : storage_(std::move(storage)), size_(size) {}

  std::unique_ptr<uint8_t, FreeDeleter> storage_;
  size_t size_ = 0;
};

}  // namespace sluice::transport
