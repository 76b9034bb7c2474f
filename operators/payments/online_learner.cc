// OnlineLearner and its TimerQueue; see online_learner.h. Built with -ffp-contract=off.
#include "operators/payments/online_learner.h"

#include <tuple>

#include "operators/payments/byte_codec.h"
#include "runtime/data/key_group.h"

namespace sluice::payments {
namespace {

constexpr const char* kPendingState = "learner-pending";
constexpr const char* kTimerState = "learner-timers";
// Leads the learner's operator-snapshot blob; an older layout (pending
// vectors and timers inside the blob) is refused with a clear message.
constexpr uint32_t kLearnerFormat = 0x4C524E32;  // "2NRL"

/// A uint64 record key as appendSerializedKey encodes one non-null uint64
/// column (as KeyedBlobState), and its key group (as a hash partitioning).
std::string serializedId(uint64_t id) {
  std::string key(9, '\1');
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<char>(id >> (8 * i));
  return key;
}

int keyGroupOfId(uint64_t id, int maxParallelism) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(id >> (8 * i));
  return keyGroupOf(hashBytes(std::string_view(bytes, 8)), maxParallelism);
}

Status openState(KeyedStateBackend* backend, const char* name, int& state) {
  if (backend == nullptr)
    return Status::internal(std::string("online learner runs without keyed state (") + name + ")");
  SLUICE_ASSIGN_OR_RETURN(state, backend->registerState(StateDescriptor{name, StateKind::kValue, std::nullopt}));
  return Status::OK();
}

}  // namespace

// ---- TimerQueue ----

Status TimerQueue::open(KeyedStateBackend* backend, int maxParallelism) {
  backend_ = backend;
  maxParallelism_ = maxParallelism;
  SLUICE_RETURN_NOT_OK(openState(backend, kTimerState, state_));
  tailPage_.clear();
  headPage_.clear();
  headPageNumber_ = -1;
  tailDirty_ = false;
  const int64_t filled = tail_ % kTimersPerPage;
  if (filled == 0) return Status::OK();
  SLUICE_RETURN_NOT_OK(loadPage(tail_ / kTimersPerPage, tailPage_));
  if (static_cast<int64_t>(tailPage_.size()) < filled) {
    return Status::corruption("online learner timer page " + std::to_string(tail_ / kTimersPerPage) + " holds " +
                              std::to_string(tailPage_.size()) + " timers, expected " + std::to_string(filled));
  }
  tailPage_.resize(filled);
  return Status::OK();
}

std::string TimerQueue::pageKey(int64_t page) const { return serializedId(static_cast<uint64_t>(page)); }

int TimerQueue::keyGroupOfPage(int64_t page) const {
  return keyGroupOfId(static_cast<uint64_t>(page), maxParallelism_);
}

Status TimerQueue::loadPage(int64_t page, std::vector<Timer>& timers) {
  std::string key = pageKey(page);
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          backend_->get(StateKey{state_, keyGroupOfPage(page), key, {}}));
  if (!bytes) return Status::corruption("online learner timer page " + std::to_string(page) + " is missing");
  ByteReader reader(*bytes, "online learner timer page");
  timers.clear();
  while (!reader.atEnd()) {
    SLUICE_ASSIGN_OR_RETURN(int64_t time, reader.get<int64_t>());
    SLUICE_ASSIGN_OR_RETURN(uint64_t txnId, reader.get<uint64_t>());
    timers.emplace_back(time, txnId);
  }
  return Status::OK();
}

Status TimerQueue::writePage(int64_t page, const std::vector<Timer>& timers) {
  std::string bytes;
  bytes.reserve(timers.size() * 16);
  ByteWriter writer(bytes);
  for (const Timer& timer : timers) {
    writer.put(timer.first);
    writer.put(timer.second);
  }
  std::string key = pageKey(page);
  return backend_->put(StateKey{state_, keyGroupOfPage(page), key, {}}, bytes);
}

Status TimerQueue::push(const Timer& timer) {
  if (timer < last_) {
    return Status::invalidArgument("online learner: MATURE timer (" + std::to_string(timer.first) + ", " +
                                   std::to_string(timer.second) + ") sorts before the previous one (" +
                                   std::to_string(last_.first) + ", " + std::to_string(last_.second) +
                                   "); records are not in key order");
  }
  last_ = timer;
  tailPage_.push_back(timer);
  tail_ += 1;
  tailDirty_ = true;
  if (tail_ % kTimersPerPage != 0) return Status::OK();
  const int64_t page = tail_ / kTimersPerPage - 1;
  SLUICE_RETURN_NOT_OK(writePage(page, tailPage_));
  tailDirty_ = false;
  if (head_ / kTimersPerPage == page) {  // firing from this page next: keep it
    headPage_ = std::move(tailPage_);
    headPageNumber_ = page;
  }
  tailPage_.clear();
  return Status::OK();
}

Result<const TimerQueue::Timer*> TimerQueue::front() {
  if (head_ == tail_) return nullptr;
  const int64_t page = head_ / kTimersPerPage;
  const int64_t slot = head_ % kTimersPerPage;
  if (page == tail_ / kTimersPerPage) return &tailPage_[slot];
  if (headPageNumber_ != page) {
    SLUICE_RETURN_NOT_OK(loadPage(page, headPage_));
    if (static_cast<int64_t>(headPage_.size()) != kTimersPerPage) {
      return Status::corruption("online learner timer page " + std::to_string(page) + " holds " +
                                std::to_string(headPage_.size()) + " timers, expected a full page");
    }
    headPageNumber_ = page;
  }
  return &headPage_[slot];
}

Status TimerQueue::pop() {
  SLUICE_CHECK(head_ < tail_, "pop from an empty timer queue");
  head_ += 1;
  if (head_ % kTimersPerPage != 0) return Status::OK();
  // Page head_ / K - 1 is done; it was full, hence written.
  const int64_t page = head_ / kTimersPerPage - 1;
  std::string key = pageKey(page);
  SLUICE_RETURN_NOT_OK(backend_->remove(StateKey{state_, keyGroupOfPage(page), key, {}}));
  if (headPageNumber_ == page) {
    headPage_.clear();
    headPageNumber_ = -1;
  }
  return Status::OK();
}

Status TimerQueue::flush() {
  if (!tailDirty_) return Status::OK();
  SLUICE_RETURN_NOT_OK(writePage(tail_ / kTimersPerPage, tailPage_));
  tailDirty_ = false;
  return Status::OK();
}

void TimerQueue::encode(std::string& out) const {
  ByteWriter writer(out);
  writer.put(head_);
  writer.put(tail_);
  writer.put(last_.first);
  writer.put(last_.second);
}

Status TimerQueue::restore(std::string_view& bytes) {
  ByteReader reader(bytes, "online learner timer queue");
  SLUICE_ASSIGN_OR_RETURN(head_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(tail_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(last_.first, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(last_.second, reader.get<uint64_t>());
  if (head_ < 0 || tail_ < head_) {
    return Status::corruption("online learner timer queue has head " + std::to_string(head_) + " after tail " +
                              std::to_string(tail_));
  }
  bytes.remove_prefix(reader.offset());
  return Status::OK();
}

// ---- OnlineLearner ----

OnlineLearner::OnlineLearner(LogisticModel initial, int64_t maturityMs, int64_t publishMs)
    : maturityMs_(maturityMs), publishMs_(publishMs), model_(initial), published_(initial) {}

Status OnlineLearner::open(KeyedStateBackend* backend, int maxParallelism) {
  backend_ = backend;
  maxParallelism_ = maxParallelism;
  SLUICE_RETURN_NOT_OK(openState(backend, kPendingState, pendingState_));
  return timers_.open(backend, maxParallelism);
}

StateKey OnlineLearner::pendingKey(uint64_t txnId, std::string& keyBytes) const {
  keyBytes = serializedId(txnId);
  return StateKey{pendingState_, keyGroupOfId(txnId, maxParallelism_), keyBytes, {}};
}

void OnlineLearner::enterEpochOf(int64_t timestampMs) {
  int64_t epoch = timestampMs / publishMs_;
  if (timestampMs < 0 && timestampMs % publishMs_ != 0) epoch -= 1;
  if (epoch <= publishedEpoch_) return;
  // Every event so far sorts before (epoch * P, -1, -1): this is S_epoch.
  published_ = model_;
  publishedUpdates_ = updates_;
  publishedEpoch_ = epoch;
}

Status OnlineLearner::fire(const Timer& timer) {
  enterEpochOf(timer.first);
  std::string keyBytes;
  StateKey key = pendingKey(timer.second, keyBytes);
  if (splitmix64(timer.second) % 100 < 10) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, backend_->get(key));
    if (!stored) return Status::OK();  // its label came first
    ByteReader reader(*stored, "online learner pending features");
    SLUICE_ASSIGN_OR_RETURN(FeatureVector x, reader.get<FeatureVector>());
    sgdStep(model_, x, 0.0, 10.0);
    updates_ += 1;
  }
  // Whether or not its label came first (then this is a no-op), x is done.
  return backend_->remove(key);
}

Status OnlineLearner::fireTimersBefore(int64_t timestampMs, int64_t kind, uint64_t txnId) {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const Timer* first, timers_.front());
    if (first == nullptr) return Status::OK();
    if (std::make_tuple(first->first, kMatureKind, first->second) >= std::make_tuple(timestampMs, kind, txnId)) {
      return Status::OK();
    }
    Timer timer = *first;
    SLUICE_RETURN_NOT_OK(timers_.pop());
    SLUICE_RETURN_NOT_OK(fire(timer));
  }
}

Status OnlineLearner::process(PaymentRow& row) {
  SLUICE_CHECK(backend_ != nullptr, "OnlineLearner::process before open");
  SLUICE_RETURN_NOT_OK(fireTimersBefore(row.timestampMs, row.kind, row.txnId));
  enterEpochOf(row.timestampMs);
  std::string keyBytes;
  StateKey key = pendingKey(row.txnId, keyBytes);
  if (row.kind == kLabelKind) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, backend_->get(key));
    if (!stored) {
      lateLabels_ += 1;
      return Status::OK();
    }
    ByteReader reader(*stored, "online learner pending features");
    SLUICE_ASSIGN_OR_RETURN(FeatureVector x, reader.get<FeatureVector>());
    sgdStep(model_, x, static_cast<double>(row.label), 1.0);
    updates_ += 1;
    return backend_->remove(key);
  }
  FeatureVector x = modelInput(row);
  row.probability = published_.probability(x);
  row.scoreMilli = scoreMilli(row.probability);
  row.modelVersion = publishedUpdates_;
  std::string bytes;
  ByteWriter(bytes).put(x);
  SLUICE_RETURN_NOT_OK(backend_->put(key, bytes));
  return timers_.push(Timer{row.timestampMs + maturityMs_, row.txnId});
}

Status OnlineLearner::advanceTo(int64_t watermark) {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const Timer* first, timers_.front());
    if (first == nullptr || first->first > watermark) return Status::OK();
    Timer timer = *first;
    SLUICE_RETURN_NOT_OK(timers_.pop());
    SLUICE_RETURN_NOT_OK(fire(timer));
  }
}

std::string OnlineLearner::encode() const {
  std::string out;
  ByteWriter writer(out);
  writer.put(kLearnerFormat);
  writer.put(model_);
  writer.put(updates_);
  writer.put(published_);
  writer.put(publishedUpdates_);
  writer.put(publishedEpoch_);
  writer.put(lateLabels_);
  timers_.encode(out);
  return out;
}

Status OnlineLearner::restore(std::string_view bytes) {
  ByteReader reader(bytes, "online learner state");
  SLUICE_ASSIGN_OR_RETURN(uint32_t format, reader.get<uint32_t>());
  if (format != kLearnerFormat) {
    return Status::corruption(
        "online learner state has an unknown layout (a snapshot from before the keyed learner state?)");
  }
  SLUICE_ASSIGN_OR_RETURN(model_, reader.get<LogisticModel>());
  SLUICE_ASSIGN_OR_RETURN(updates_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(published_, reader.get<LogisticModel>());
  SLUICE_ASSIGN_OR_RETURN(publishedUpdates_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(publishedEpoch_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(lateLabels_, reader.get<int64_t>());
  std::string_view rest = bytes.substr(reader.offset());
  SLUICE_RETURN_NOT_OK(timers_.restore(rest));
  if (!rest.empty()) return Status::corruption("online learner state has trailing bytes");
  return Status::OK();
}

}  // namespace sluice::payments
