// RateLimiter: paces a source reader to a number of records per second.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

namespace sluice {

/// Sleeps so that the records passed to `acquire` never run ahead of
/// `recordsPerSecond` since the first call. Not thread-safe: one per reader.
class RateLimiter {
 public:
  explicit RateLimiter(double recordsPerSecond) : recordsPerSecond_(recordsPerSecond) {}

  /// The most records a reader should emit per poll so one sleep stays short
  /// (about 50 ms), keeping the task responsive to checkpoints and cancels.
  int64_t maxRecordsPerPoll() const { return std::max<int64_t>(1, static_cast<int64_t>(recordsPerSecond_ / 20)); }

  /// Accounts for `records` more records and sleeps until they are due.
  void acquire(int64_t records) {
    const auto now = std::chrono::steady_clock::now();
    if (!started_) {
      started_ = true;
      start_ = now;
    }
    granted_ += records;
    const auto due = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(granted_) / recordsPerSecond_));
    if (due > now) std::this_thread::sleep_until(due);
  }

 private:
  double recordsPerSecond_;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_;
  int64_t granted_ = 0;
};

}  // namespace sluice
