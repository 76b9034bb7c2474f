// The ordering machinery of the payment job (SPEC section 2): the reference
// event-time reorder (late decision, min-heap by (ts, kind, txn_id), release
// behind the watermark, sequence numbers) and the sequence buffer with which
// parallel downstream stages restore that order behind the watermark.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "operators/payments/payment_record.h"
#include "runtime/base/result.h"
#include "runtime/task/stream_element.h"

namespace sluice::payments {

/// The spec's sequential reorder, record by record in file order.
///
/// add(): a record with ts < WM is late (handed to `late`, no state change);
/// otherwise it is buffered, maxTs and WM = maxTs - B advance, and every
/// buffered record with ts <= WM is released in key order (ts, kind, txn_id,
/// then arrival), numbered 0, 1, 2, ... in `sequence`. finish() releases the
/// rest. After add(), every future record has ts >= watermark(), so
/// `watermark() - 1` is a valid downstream watermark. Not thread-safe.
class EventTimeReorder {
 public:
  using Sink = std::function<void(const PaymentRow&)>;
  explicit EventTimeReorder(int64_t outOfOrdernessMs) : bound_(outOfOrdernessMs) {}

  void add(const PaymentRow& row, const Sink& released, const Sink& late);
  void finish(const Sink& released);

  /// WM (kMinWatermark before the first record).
  int64_t watermark() const { return watermark_; }
  size_t buffered() const { return heap_.size(); }
  int64_t releasedCount() const { return nextSequence_; }

  std::string encode() const;
  Status restore(std::string_view bytes);

 private:
  struct Entry {
    PaymentRow row;
    int64_t arrival;
  };
  struct Later {
    bool operator()(const Entry& left, const Entry& right) const;
  };
  void releaseUpTo(int64_t watermark, const Sink& released);

  int64_t bound_;
  bool seenAny_ = false;
  int64_t maxTimestamp_ = 0;
  int64_t watermark_ = kMinWatermark;
  int64_t nextArrival_ = 0;
  int64_t nextSequence_ = 0;
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
};

/// Restores the reference order in a stage fed by several upstream subtasks:
/// rows wait here until the watermark passes their time, then leave in
/// `sequence` order. Sound because the sequence order is non-decreasing in
/// time and a watermark W promises that every later row has ts > W. Each row
/// carries an int32 tag (the keyed stages keep its key group). Not thread-safe.
class SequenceBuffer {
 public:
  void add(const PaymentRow& row, int32_t tag);
  /// Releases, in sequence order, every row with ts <= watermark.
  /// Stops at the first error `released` returns.
  Status releaseUpTo(int64_t watermark, const std::function<Status(const PaymentRow&, int32_t)>& released);
  size_t size() const { return heap_.size(); }

  std::string encode() const;
  Status restore(std::string_view bytes);

 private:
  struct Entry {
    PaymentRow row;
    int32_t tag = 0;
  };
  /// (sequence, slot in entries_): the heap moves these pairs, not the rows.
  using Position = std::pair<int64_t, uint32_t>;
  std::priority_queue<Position, std::vector<Position>, std::greater<Position>> heap_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> freeSlots_;
};

}  // namespace sluice::payments
