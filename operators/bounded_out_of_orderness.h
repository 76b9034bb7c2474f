// Watermarks that trail the largest event time seen by a fixed bound, as Flink's
// BoundedOutOfOrdernessWatermarks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "runtime/task/stream_element.h"

namespace sluice {

/// Tracks the largest event time a source split has read and derives the
/// watermark `maxEventTime - maxOutOfOrderness - 1`: a record up to the bound
/// older than the newest one seen is never late. Not thread-safe.
class BoundedOutOfOrderness {
 public:
  explicit BoundedOutOfOrderness(int64_t maxOutOfOrdernessMs) : delay_(std::max<int64_t>(0, maxOutOfOrdernessMs)) {}

  void observe(int64_t eventTime) { maxEventTime_ = std::max(maxEventTime_, eventTime); }
  void observe(const int64_t* eventTimes, int64_t count) {
    int64_t largest = maxEventTime_;
    for (int64_t i = 0; i < count; ++i) largest = std::max(largest, eventTimes[i]);
    maxEventTime_ = largest;
  }

  /// The watermark to emit now, when it has advanced since the last call that
  /// returned one; else nullopt.
  std::optional<int64_t> nextWatermark() {
    if (maxEventTime_ == kMinWatermark) return std::nullopt;
    // Saturate instead of overflowing for event times near the int64 minimum.
    const int64_t watermark = maxEventTime_ < kMinWatermark + delay_ + 1 ? kMinWatermark : maxEventTime_ - delay_ - 1;
    if (watermark <= emitted_) return std::nullopt;
    emitted_ = watermark;
    return watermark;
  }

  int64_t maxEventTime() const { return maxEventTime_; }
  int64_t emittedWatermark() const { return emitted_; }
  /// Restores what maxEventTime() and emittedWatermark() returned.
  void restore(int64_t maxEventTime, int64_t emittedWatermark) {
    maxEventTime_ = maxEventTime;
    emitted_ = emittedWatermark;
  }

 private:
  int64_t delay_;
  int64_t maxEventTime_ = kMinWatermark;
  int64_t emitted_ = kMinWatermark;
};

}  // namespace sluice
