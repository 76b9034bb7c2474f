// EventTimeReorder and SequenceBuffer; see event_order.h.
#include "operators/payments/event_order.h"

#include <tuple>

#include "operators/payments/byte_codec.h"

namespace sluice::payments {

bool EventTimeReorder::Later::operator()(const Entry& left, const Entry& right) const {
  return std::tie(left.row.timestampMs, left.row.kind, left.row.txnId, left.arrival) >
         std::tie(right.row.timestampMs, right.row.kind, right.row.txnId, right.arrival);
}

void EventTimeReorder::add(const PaymentRow& row, const Sink& released, const Sink& late) {
  if (seenAny_ && row.timestampMs < watermark_) {
    late(row);
    return;
  }
  heap_.push(Entry{row, nextArrival_++});
  maxTimestamp_ = seenAny_ ? std::max(maxTimestamp_, row.timestampMs) : row.timestampMs;
  seenAny_ = true;
  watermark_ = maxTimestamp_ - bound_;
  releaseUpTo(watermark_, released);
}

void EventTimeReorder::finish(const Sink& released) { releaseUpTo(kMaxWatermark, released); }

void EventTimeReorder::releaseUpTo(int64_t watermark, const Sink& released) {
  while (!heap_.empty() && heap_.top().row.timestampMs <= watermark) {
    PaymentRow row = heap_.top().row;
    heap_.pop();
    row.sequence = nextSequence_++;
    released(row);
  }
}

std::string EventTimeReorder::encode() const {
  std::string out;
  ByteWriter writer(out);
  writer.put<uint8_t>(seenAny_ ? 1 : 0);
  writer.put(maxTimestamp_);
  writer.put(watermark_);
  writer.put(nextArrival_);
  writer.put(nextSequence_);
  auto copy = heap_;
  writer.put<uint64_t>(copy.size());
  while (!copy.empty()) {
    writer.put(copy.top().arrival);
    encodePaymentRow(copy.top().row, out);
    copy.pop();
  }
  return out;
}

Status EventTimeReorder::restore(std::string_view bytes) {
  ByteReader reader(bytes, "reorder state");
  SLUICE_ASSIGN_OR_RETURN(uint8_t seenAny, reader.get<uint8_t>());
  seenAny_ = seenAny != 0;
  SLUICE_ASSIGN_OR_RETURN(maxTimestamp_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(watermark_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(nextArrival_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(nextSequence_, reader.get<int64_t>());
  SLUICE_ASSIGN_OR_RETURN(uint64_t count, reader.get<uint64_t>());
  heap_ = {};
  for (uint64_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(int64_t arrival, reader.get<int64_t>());
    SLUICE_ASSIGN_OR_RETURN(PaymentRow row, decodePaymentRow(reader.bytes(), reader.offset()));
    heap_.push(Entry{row, arrival});
  }
  if (!reader.atEnd()) return Status::corruption("reorder state has trailing bytes");
  return Status::OK();
}

void SequenceBuffer::add(const PaymentRow& row, int32_t tag) {
  uint32_t slot;
  if (freeSlots_.empty()) {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{row, tag});
  } else {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
    entries_[slot] = Entry{row, tag};
  }
  heap_.push(Position{row.sequence, slot});
}

Status SequenceBuffer::releaseUpTo(int64_t watermark,
                                   const std::function<Status(const PaymentRow&, int32_t)>& released) {
  while (!heap_.empty()) {
    const uint32_t slot = heap_.top().second;
    const Entry& entry = entries_[slot];
    if (entry.row.timestampMs > watermark) break;
    heap_.pop();
    freeSlots_.push_back(slot);  // the callback adds nothing, so the entry stays put until the next add
    SLUICE_RETURN_NOT_OK(released(entry.row, entry.tag));
  }
  if (heap_.empty()) {  // every slot is free: start the slots over
    entries_.clear();
    freeSlots_.clear();
  }
  return Status::OK();
}

std::string SequenceBuffer::encode() const {
  std::string out;
  ByteWriter writer(out);
  auto copy = heap_;
  writer.put<uint64_t>(copy.size());
  while (!copy.empty()) {
    const Entry& entry = entries_[copy.top().second];
    writer.put(entry.tag);
    encodePaymentRow(entry.row, out);
    copy.pop();
  }
  return out;
}

Status SequenceBuffer::restore(std::string_view bytes) {
  ByteReader reader(bytes, "sequence buffer");
  SLUICE_ASSIGN_OR_RETURN(uint64_t count, reader.get<uint64_t>());
  heap_ = {};
  entries_.clear();
  freeSlots_.clear();
  for (uint64_t i = 0; i < count; ++i) {
    SLUICE_ASSIGN_OR_RETURN(int32_t tag, reader.get<int32_t>());
    SLUICE_ASSIGN_OR_RETURN(PaymentRow row, decodePaymentRow(reader.bytes(), reader.offset()));
    add(row, tag);
  }
  if (!reader.atEnd()) return Status::corruption("sequence buffer has trailing bytes");
  return Status::OK();
}

}  // namespace sluice::payments
