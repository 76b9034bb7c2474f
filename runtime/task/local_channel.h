// LocalChannel and InputGate: bounded, in-order queues between the subtasks of
// one process, and the consumer side that waits on all of a task's channels.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/task/stream_element.h"

namespace sluice {

class InputGate;

/// The producer's end of a channel: where a RecordWriter sends elements. A
/// local queue in one process, a credit-based network channel across processes.
class OutputChannel {
 public:
  virtual ~OutputChannel() = default;
  /// Sends one element in order; blocks while the receiver has no credit.
  /// Returns Cancelled when the receiver is gone.
  virtual Status push(StreamElement element) = 0;
};

/// One logical channel from a producer subtask to a consumer subtask. The
/// capacity is the consumer's credit: a producer may have at most `capacity`
/// elements in flight, and `push` blocks (backpressure) until the consumer takes
/// one, so nothing is ever dropped. Elements keep their order. Thread-safe: one
/// producer thread and the consumer's thread (through its InputGate).
class LocalChannel : public OutputChannel {
 public:
  /// `input` is the consumer's input index (which `from` entry this channel feeds).
  LocalChannel(InputGate* gate, int input, size_t capacity);

  /// Appends an element, waiting while the channel is full. Returns Cancelled
  /// when the gate is closed (the consumer failed or the job was cancelled).
  Status push(StreamElement element) override;

  int input() const { return input_; }

  /// Called (on the consumer's thread, under the gate's lock; must not block)
  /// each time the consumer takes an element: a network channel returns one
  /// credit to its remote sender. REQUIRES: set before elements flow.
  void setConsumedCallback(std::function<void()> callback) { onConsumed_ = std::move(callback); }

 private:
  friend class InputGate;
  std::function<void()> onConsumed_;
  InputGate* gate_;
  int input_;
  size_t capacity_;
  std::deque<StreamElement> queue_;  // guarded by gate_->mutex_
  bool ended_ = false;               // EndOfStream was taken by the consumer
  bool blocked_ = false;             // delivered the barrier being aligned; not read until aligned
  int64_t watermark_ = kMinWatermark;
};

/// The consumer side of a task's input channels. The consumer thread polls; producers
/// push into individual channels. Tracks per-channel watermarks and end-of-stream
/// so that the task sees one combined watermark (minimum over channels) and one end.
///
/// Checkpoint barriers are aligned here (Chandy-Lamport as in Flink's aligned
/// checkpoints): a channel that delivered barrier n is blocked until barrier n
/// arrived on every channel that has not ended; then `poll` reports one kBarrier
/// event and unblocks them. A newer barrier abandons an older alignment (that
/// checkpoint was aborted); barriers older than the last aligned one are dropped.
class InputGate {
 public:
  /// What `poll` hands the task.
  struct Event {
    enum class Kind { kBatch, kWatermark, kBarrier, kEnd } kind;
    int input = 0;          // for kBatch
    int channel = 0;        // for kBarrier: the channel index it arrived on
    RecordBatch batch;      // for kBatch
    int64_t timestamp = 0;  // combined watermark for kWatermark
    CheckpointBarrier barrier{};
    int64_t alignmentMs = 0;  // for kBarrier: from the first barrier to the last
  };

  InputGate() = default;

  /// Adds a channel feeding consumer input `input`. REQUIRES: before any push or poll.
  LocalChannel* addChannel(int input, size_t capacity);
  int numChannels() const { return static_cast<int>(channels_.size()); }

  /// Waits up to `timeout` for the next event. Returns nullopt on timeout or
  /// when woken by `wake()`. Watermarks are only reported when the combined
  /// minimum advances. kEnd is returned once, after every channel has ended.
  std::optional<Event> poll(std::chrono::milliseconds timeout);

  /// Wakes a waiting poll (e.g. for mailbox mail).
  void wake();
  /// Unblocks producers with Cancelled and refuses further pushes.
  void close();
  bool closed() const;

  /// Total elements queued (for backpressure metrics).
  size_t queuedElements() const;

 private:
  friend class LocalChannel;
  mutable std::mutex mutex_;
  std::condition_variable dataAvailable_;
  std::condition_variable spaceAvailable_;
  std::vector<std::unique_ptr<LocalChannel>> channels_;
  size_t nextChannel_ = 0;
  int endedChannels_ = 0;
  bool endReported_ = false;
  bool closed_ = false;
  bool woken_ = false;
  int64_t combinedWatermark_ = kMinWatermark;
  // Barrier alignment, guarded by mutex_.
  int64_t aligning_ = -1;     // checkpoint being aligned, -1 when none
  int64_t lastAligned_ = -1;  // newest checkpoint reported aligned
  int barriersSeen_ = 0;      // channels blocked for `aligning_`
  CheckpointBarrier alignBarrier_{};
  std::chrono::steady_clock::time_point alignStart_;
  std::optional<Event> alignedReady_;  // completed by an end-of-stream; reported next

  void unblockAll();
  /// Completes the alignment if every channel that has not ended delivered the barrier.
  std::optional<Event> completeAlignmentIfReady();
};

}  // namespace sluice
