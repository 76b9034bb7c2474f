// The online-learning scorer of the F2 variant (SPEC section 7): one global
// logistic model trained by SGD from delayed labels and MATURE timers, with
// the published model snapshots S_k that score transactions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "operators/payments/risk_model.h"

namespace sluice::payments {

/// Processes records in the reference order (key order) and scores each T
/// with the snapshot of its epoch. Sequential by nature: one instance sees
/// every record. Not thread-safe.
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

  void process(PaymentRow& row);
  void advanceTo(int64_t watermark);

  const LogisticModel& model() const { return model_; }
  int64_t modelUpdates() const { return updates_; }
  int64_t lateLabels() const { return lateLabels_; }
  size_t pendingCount() const { return pending_.size(); }

  std::string encode() const;
  Status restore(std::string_view bytes);

 private:
  /// Timers in key order (time, then txn_id; all have kind MATURE).
  using Timer = std::pair<int64_t, uint64_t>;
  void fireTimersBefore(int64_t timestampMs, int64_t kind, uint64_t txnId);
  void fire(const Timer& timer);
  /// Takes snapshot S_k when an event of a new epoch k arrives.
  void enterEpochOf(int64_t timestampMs);

  int64_t maturityMs_;
  int64_t publishMs_;
  LogisticModel model_;
  int64_t updates_ = 0;
  LogisticModel published_;
  int64_t publishedUpdates_ = 0;
  int64_t publishedEpoch_ = -1;
  int64_t lateLabels_ = 0;
  std::unordered_map<uint64_t, FeatureVector> pending_;
  std::set<Timer> timers_;
};

}  // namespace sluice::payments
