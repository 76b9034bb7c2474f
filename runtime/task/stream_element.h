// The elements that flow on a channel: data batches and in-band control events.
#pragma once

#include <cstdint>
#include <limits>
#include <variant>

#include "runtime/data/record_batch.h"

namespace sluice {

/// Event time has reached `timestamp`: no later record carries a smaller one.
struct Watermark {
  int64_t timestamp;
};
inline constexpr int64_t kMinWatermark = std::numeric_limits<int64_t>::min();
/// The watermark of a finished bounded input: every window may fire.
inline constexpr int64_t kMaxWatermark = std::numeric_limits<int64_t>::max();

/// Marks the cut of checkpoint `checkpointId` in a stream (asynchronous barrier snapshots).
struct CheckpointBarrier {
  int64_t checkpointId;
  int64_t timestamp;
};

/// The producer has no more data on this channel.
struct EndOfStream {};

/// What a channel carries, in order. Order between data and control is part of
/// the semantics: a watermark promises nothing earlier follows it.
using StreamElement = std::variant<RecordBatch, Watermark, CheckpointBarrier, EndOfStream>;

}  // namespace sluice
