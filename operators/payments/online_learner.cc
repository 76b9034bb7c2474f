// OnlineLearner; see online_learner.h. Built with -ffp-contract=off.
#include "operators/payments/online_learner.h"

#include <tuple>

#include "operators/payments/byte_codec.h"

namespace sluice::payments {

OnlineLearner::OnlineLearner(LogisticModel initial, int64_t maturityMs, int64_t publishMs)
    : maturityMs_(maturityMs), publishMs_(publishMs), model_(initial), published_(initial) {}

void OnlineLearner::enterEpochOf(int64_t timestampMs) {
  int64_t epoch = timestampMs / publishMs_;
  if (timestampMs < 0 && timestampMs % publishMs_ != 0) epoch -= 1;
  if (epoch <= publishedEpoch_) return;
  // Every event so far sorts before (epoch * P, -1, -1): this is S_epoch.
  published_ = model_;
  publishedUpdates_ = updates_;
  publishedEpoch_ = epoch;
}

void OnlineLearner::fire(const Timer& timer) {
  enterEpochOf(timer.first);
  auto found = pending_.find(timer.second);
  if (found == pending_.end()) return;  // its label came first
  FeatureVector x = found->second;
  pending_.erase(found);
  if (splitmix64(timer.second) % 100 < 10) {
    sgdStep(model_, x, 0.0, 10.0);
    updates_ += 1;
  }
}

void OnlineLearner::fireTimersBefore(int64_t timestampMs, int64_t kind, uint64_t txnId) {
  while (!timers_.empty()) {
    const Timer& first = *timers_.begin();
    if (std::make_tuple(first.first, kMatureKind, first.second) >= std::make_tuple(timestampMs, kind, txnId)) break;
    Timer timer = first;
    timers_.erase(timers_.begin());
    fire(timer);
  }
}

void OnlineLearner::process(PaymentRow& row) {
  fireTimersBefore(row.timestampMs, row.kind, row.txnId);
  enterEpochOf(row.timestampMs);
  if (row.kind == kLabelKind) {
    auto found = pending_.find(row.txnId);
    if (found == pending_.end()) {
      lateLabels_ += 1;
      return;
    }
    sgdStep(model_, found->second, static_cast<double>(row.label), 1.0);
    updates_ += 1;
    pending_.erase(found);
    return;
  }
  FeatureVector x = modelInput(row);
  row.probability = published_.probability(x);
  row.scoreMilli = scoreMilli(row.probability);
  row.modelVersion = publishedUpdates_;
  pending_[row.txnId] = x;
  timers_.insert(Timer{row.timestampMs + maturityMs_, row.txnId});
}

void OnlineLearner::advanceTo(int64_t watermark) {
  while (!timers_.empty() && timers_.begin()->first <= watermark) {
    Timer timer = *timers_.begin();
    timers_.erase(timers_.begin());
    fire(timer);
  }
}

std::string OnlineLearner::encode() const {
  std::string out;
  ByteWriter writer(out);
  writer.put(model_);
  writer.put(updates_);
  writer.put(published_);
  writer.put(publishedUpdates_);
  writer.put(publishedEpoch_);
  writer.put(lateLabels_);
  writer.put<uint64_t>(pending_.size());
  for (const auto& [txnId, x] : pending_) {
    writer.put(txnId);
    writer.put(x);
  }
  writer.put<uint64_t>(timers_.size());
  for (const Timer& timer : timers_) {
    writer.put(timer.first);
    writer.put(timer.second);
  }
  return out;
}

Status OnlineLearner::restore(std::string_view bytes) {
  ByteReader reader(bytes, "online learner state");
  SLUICE_ASSIGN_OR_RETURN(model_, reader.get<LogisticModel>());
  SLUICE_ASSIGN_OR_RETURN(updates_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(published_, reader.get<LogisticModel>());
  SLUICE_ASSIGN_OR_RETURN(publishedUpdates_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(publishedEpoch_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(lateLabels_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(uint64_t pendingCount, reader.get<uint64_t>());
  pending_.clear();
  for (uint64_t i = 0; i < pendingCount; ++i) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t txnId, reader.get<uint64_t>());
    SLUICE_ASSIGN_OR_RETURN(FeatureVector x, reader.get<FeatureVector>());
    pending_[txnId] = x;
  }
  SLUICE_ASSIGN_OR_RETURN(uint64_t timerCount, reader.get<uint64_t>());
  timers_.clear();
  for (uint64_t i = 0; i < timerCount; ++i) {
    SLUICE_ASSIGN_OR_RETURN(int64_t time, reader.get<int64_t>());
    SLUICE_ASSIGN_OR_RETURN(uint64_t txnId, reader.get<uint64_t>());
    timers_.insert(Timer{time, txnId});
  }
  if (!reader.atEnd()) return Status::corruption("online learner state has trailing bytes");
  return Status::OK();
}

}  // namespace sluice::payments
