// The online-learning scorer of the F2 variant (SPEC section 7): one global
// logistic model trained by SGD from delayed labels and MATURE timers, with
// the published model snapshots S_k that score transactions. Pending feature
// vectors and the timers live in keyed state, so memory stays bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/payments/risk_model.h"
#include "runtime/state/keyed_state_backend.h"

namespace sluice::payments {

/// The MATURE timers of the learner, in keyed state. Every transaction adds
/// its timer (t + M, txn_id) in record key order, so timers are created in
/// their own firing order and the queue is first-in first-out: timer n (a
/// running count) lives in page n / kTimersPerPage, one value of the value
/// state "learner-timers" keyed by the page number. Only the page being
/// appended to and the page being fired from are in memory; a full page is
/// written once and removed from the backend when its last timer fired.
/// `flush()` writes the partly filled tail page (call it before the backend
/// snapshot); the head and tail counters go into the operator snapshot.
/// Not thread-safe.
class TimerQueue {
 public:
  /// (time, txn_id); all timers have kind MATURE.
  using Timer = std::pair<int64_t, uint64_t>;
  static constexpr int64_t kTimersPerPage = 512;

  /// Registers the state; after a restore, reloads the partly filled tail page.
  Status open(KeyedStateBackend* backend, int maxParallelism);
  /// Appends a timer. InvalidArgument when it sorts before the previous one
  /// (records not in key order), which would break the FIFO order.
  Status push(const Timer& timer);
  /// The earliest timer, or nullptr when none is left. Valid until the next call.
  Result<const Timer*> front();
  /// Removes the earliest timer. REQUIRES: front() returned one.
  Status pop();
  Status flush();
  int64_t size() const { return tail_ - head_; }

  /// head, tail and the last timer (fixed size, for the operator snapshot).
  void encode(std::string& out) const;
  /// Reads what encode() wrote from the front of `bytes` and drops it. Before open().
  Status restore(std::string_view& bytes);

 private:
  Status loadPage(int64_t page, std::vector<Timer>& timers);
  Status writePage(int64_t page, const std::vector<Timer>& timers);
  std::string pageKey(int64_t page) const;
  int keyGroupOfPage(int64_t page) const;

  KeyedStateBackend* backend_ = nullptr;
  int state_ = -1;
  int maxParallelism_ = 128;
  int64_t head_ = 0;  // the next timer to fire
  int64_t tail_ = 0;  // the next timer's number
  Timer last_{INT64_MIN, 0};
  std::vector<Timer> tailPage_;  // page tail_ / kTimersPerPage, slots [0, tail_ % kTimersPerPage)
  bool tailDirty_ = false;
  int64_t headPageNumber_ = -1;  // which page headPage_ holds; -1 none
  std::vector<Timer> headPage_;
};

/// Processes records in the reference order (key order) and scores each T
/// with the snapshot of its epoch. Sequential by nature: one instance sees
/// every record. Not thread-safe.
///
/// State: the model, its published snapshot and counters in memory (encode()
/// for the operator snapshot, a few hundred bytes); each pending feature
/// vector in keyed value state "learner-pending" keyed by txn_id (key group
/// of the txn_id's hash, as a hash partitioning on txn_id); the timers in a
/// TimerQueue. Call open() before processing and flush() before the backend
/// takes a snapshot.
///
/// - process(T): fires due timers, then scores with S_floor(t/P) (sets
///   probability, scoreMilli, modelVersion), keeps x pending and registers
///   the MATURE timer (t + M, txn_id).
/// - process(L): fires due timers, then one SGD step (weight 1) if the
///   txn_id is pending, else counts a late label.
/// - advanceTo(W): fires every timer with time <= W (no later record can
///   sort before them); advanceTo(kMaxWatermark) fires all.
class OnlineLearner {
 public:
  OnlineLearner(LogisticModel initial, int64_t maturityMs, int64_t publishMs);

  /// `backend` owns every key group of `maxParallelism` (the learner runs at parallelism 1).
  Status open(KeyedStateBackend* backend, int maxParallelism);
  Status process(PaymentRow& row);
  Status advanceTo(int64_t watermark);
  /// Writes what is buffered (the tail timer page) to the backend.
  Status flush() { return timers_.flush(); }

  const LogisticModel& model() const { return model_; }
  int64_t modelUpdates() const { return updates_; }
  int64_t lateLabels() const { return lateLabels_; }
  /// Timers not yet fired: transactions whose label may still train.
  int64_t pendingTimers() const { return timers_.size(); }

  std::string encode() const;
  /// Before open(), with the backend restored from the same checkpoint.
  Status restore(std::string_view bytes);

 private:
  using Timer = TimerQueue::Timer;
  Status fireTimersBefore(int64_t timestampMs, int64_t kind, uint64_t txnId);
  Status fire(const Timer& timer);
  /// Takes snapshot S_k when an event of a new epoch k arrives.
  void enterEpochOf(int64_t timestampMs);
  StateKey pendingKey(uint64_t txnId, std::string& keyBytes) const;

  int64_t maturityMs_;
  int64_t publishMs_;
  LogisticModel model_;
  int64_t updates_ = 0;
  LogisticModel published_;
  int64_t publishedUpdates_ = 0;
  int64_t publishedEpoch_ = -1;
  int64_t lateLabels_ = 0;
  KeyedStateBackend* backend_ = nullptr;
  int pendingState_ = -1;
  int maxParallelism_ = 128;
  TimerQueue timers_;
};

}  // namespace sluice::payments
