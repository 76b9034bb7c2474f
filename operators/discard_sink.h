// DiscardSink: a sink that only counts rows, for benchmarks and tests; it can be
// throttled to act as a deliberately slow consumer in backpressure tests.
#pragma once

#include <cstdint>
#include <optional>

#include "operators/rate_limiter.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Drops every batch and counts its rows as written. With `maxRowsPerSecond`
/// set, it sleeps on its task's thread so that it never takes more rows per
/// second than that (per subtask): a slow sink whose backpressure must reach
/// the sources. A throttled sink reacts to a cancel only between batches (at
/// most one batch's worth of sleep). Single-threaded.
class DiscardSink final : public Operator {
 public:
  /// REQUIRES: `maxRowsPerSecond`, if set, is positive.
  explicit DiscardSink(std::optional<double> maxRowsPerSecond = std::nullopt) {
    if (maxRowsPerSecond.has_value()) throttle_.emplace(*maxRowsPerSecond);
  }

  Status processBatch(int input, const RecordBatch& batch, Output& out) override {
    (void)input;
    (void)out;
    if (throttle_.has_value()) throttle_->acquire(batch.numRows());
    recordsWritten_ += batch.numRows();
    return Status::OK();
  }
  int64_t recordsWritten() const override { return recordsWritten_; }

 private:
  std::optional<RateLimiter> throttle_;
  int64_t recordsWritten_ = 0;
};

}  // namespace sluice
