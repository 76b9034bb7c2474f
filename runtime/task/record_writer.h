// RecordWriter: sends one operator output to the subtasks of a downstream node,
// partitioned (forward, hash, rebalance, broadcast) and buffered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "runtime/task/local_channel.h"
#include "runtime/task/partitioning.h"

namespace sluice {

/// Partitions batches over `channels` (one per downstream subtask, in subtask
/// order) and buffers small pieces per channel until `targetRows` rows are pending
/// or the buffer timeout passes, so hash exchanges ship reasonably large batches.
/// Control elements (watermark, barrier, end) flush every buffer first, which
/// keeps their order relative to data. Not thread-safe: owned by one task thread.
class RecordWriter {
 public:
  struct Options {
    InputPartitioning partitioning;
    int producerSubtask = 0;
    int maxParallelism = 128;
    int64_t targetRows = 4096;
    std::chrono::milliseconds bufferTimeout{5};
  };

  RecordWriter(Options options, std::vector<OutputChannel*> channels);

  Status write(const RecordBatch& batch);
  /// Flushes, then sends `element` to every channel.
  Status broadcast(const StreamElement& element);
  /// Sends everything buffered.
  Status flush();
  /// Flushes channels whose oldest buffered piece is older than the timeout.
  Status flushIfDue(std::chrono::steady_clock::time_point now);

  int64_t recordsOut() const { return recordsOut_; }
  /// Nanoseconds spent handing batches to channels, most of it waiting for
  /// credit (backpressure). Readable from any thread.
  int64_t blockedNanos() const { return blockedNanos_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    std::vector<RecordBatch> batches;
    int64_t rows = 0;
    std::chrono::steady_clock::time_point since;
  };
  Status append(size_t channel, RecordBatch batch);
  Status flushChannel(size_t channel);

  Options options_;
  std::vector<OutputChannel*> channels_;
  std::vector<Pending> pending_;
  size_t nextChannel_ = 0;
  Status pushTimed(size_t channel, StreamElement element);

  int64_t recordsOut_ = 0;
  std::atomic<int64_t> blockedNanos_{0};
  int64_t bufferedRows_ = 0;
};

}  // namespace sluice
