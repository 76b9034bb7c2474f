// Encoding stream elements into Cap'n Proto messages and decoding them back, with
// complete validation at the one place where bytes from another process enter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>

#include "runtime/base/result.h"
#include "runtime/data/buffer.h"
#include "runtime/data/schema.h"
#include "runtime/task/stream_element.h"
#include "runtime/transport/encoded_message.h"

namespace sluice::transport {

/// The wire format version this build writes and the only one it accepts.
inline constexpr uint16_t kWireFormatVersion = 1;

/// The most rows one batch message may carry (Cap'n Proto's list element limit).
inline constexpr int64_t kMaxRowsPerMessage = (int64_t{1} << 29) - 1;

/// Routing and ordering information sent with every message.
struct FrameHeader {
  /// The job attempt of the sender; a receiver drops messages of older attempts.
  uint32_t jobAttempt = 0;
  uint32_t channelId = 0;
  /// Position of the message on its channel.
  uint64_t sequence = 0;
  /// The job the channel belongs to (a hash of the job id).
  uint64_t jobKey = 0;
  bool operator==(const FrameHeader& other) const = default;
};

/// Flow control: the receiver of `channelId` allows the sender `credits` more messages.
struct CreditGrant {
  uint32_t channelId = 0;
  uint32_t credits = 0;
  bool operator==(const CreditGrant& other) const = default;
};

/// Serializes `element` with `header` into one flat message. Column values are
/// copied once, in bulk, straight into the message block.
/// REQUIRES: a batch's columns match its schema and row count and satisfy
/// `Column::validate` (true for anything built with ColumnBuilder).
/// Errors: InvalidArgument when the batch breaks those rules or exceeds the wire
/// limits (`kMaxRowsPerMessage` rows, 512 MiB per string column).
/// Thread-safe (no shared state).
Result<EncodedMessage> encodeElement(const StreamElement& element, const FrameHeader& header);

/// Serializes a flow-control credit grant. Thread-safe.
Result<EncodedMessage> encodeCredit(const CreditGrant& credit, const FrameHeader& header);

/// A message that passed validation. Batch columns may point into the received bytes.
struct DecodedMessage {
  FrameHeader header;
  std::variant<StreamElement, CreditGrant> body;

  bool isCredit() const { return std::holds_alternative<CreditGrant>(body); }
  /// REQUIRES: !isCredit().
  const StreamElement& element() const { return std::get<StreamElement>(body); }
  StreamElement& element() { return std::get<StreamElement>(body); }
  /// REQUIRES: isCredit().
  const CreditGrant& credit() const { return std::get<CreditGrant>(body); }
};

/// Decodes and completely validates messages arriving on one channel (or one
/// receiving thread). Consecutive batches with the same fields share one SchemaPtr,
/// so downstream code can compare schemas by pointer. Not thread-safe; cheap to
/// construct; holds only the last schema seen.
class MessageDecoder {
 public:
  /// Decodes the `size` bytes at `data`. Everything is checked here: framing,
  /// Cap'n Proto structure (with traversal and nesting limits derived from the
  /// size), version, enum values, the schema and every column against it and the
  /// row count. A message that fails returns Corruption with a one-line reason;
  /// nothing invalid ever reaches an operator.
  ///
  /// Zero-copy: when `data` is 8-byte aligned and `owner` is set, the decoded
  /// columns point into `data` and share `owner`, which must keep the bytes alive
  /// and unchanged. Otherwise (unaligned, as ZeroMQ frames may be, or no owner) the
  /// bytes are copied once into an aligned block that the columns share, and the
  /// caller may release `data` after the call.
  Result<DecodedMessage> decode(const uint8_t* data, size_t size, std::shared_ptr<const void> owner);

  /// Decodes a message held by `message` (e.g. `EncodedMessage::toBuffer()`), sharing its storage.
  Result<DecodedMessage> decode(const Buffer& message);

 private:
  SchemaPtr lastSchema_;
};

/// One-off decode with a fresh MessageDecoder; see `MessageDecoder::decode`.
Result<DecodedMessage> decodeMessage(const uint8_t* data, size_t size, std::shared_ptr<const void> owner);
Result<DecodedMessage> decodeMessage(const Buffer& message);

}  // namespace sluice::transport
