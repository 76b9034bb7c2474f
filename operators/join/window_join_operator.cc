// WindowJoinOperator: buffer per (key, window), join and clear on the watermark.
#include "operators/join/window_join_operator.h"

#include <unordered_map>

#include "operators/join/keyed_rows.h"
#include "operators/join/row_codec.h"

namespace sluice {

WindowJoinOperator::WindowJoinOperator(std::shared_ptr<const JoinPlan> plan)
    : plan_(std::move(plan)), size_(plan_->options().windowSize), slide_(plan_->options().windowSlide) {}

Status WindowJoinOperator::open(const OperatorContext& context) {
  if (context.keyedStateBackend == nullptr) {
    return Status::internal("node '" + context.nodeId + "': a window join needs a keyed state backend");
  }
  maxParallelism_ = context.maxParallelism;
  SLUICE_ASSIGN_OR_RETURN(states_[kLeftSide],
                          JoinSideState::create(*context.keyedStateBackend, "window-join-left", std::nullopt));
  SLUICE_ASSIGN_OR_RETURN(states_[kRightSide],
                          JoinSideState::create(*context.keyedStateBackend, "window-join-right", std::nullopt));
  for (auto& state : states_) {
    SLUICE_RETURN_NOT_OK(state->scanAll([&](int keyGroup, std::string_view key, int64_t start) {
      pending_[start].emplace(keyGroup, std::string(key));
    }));
  }
  return Status::OK();
}

int64_t WindowJoinOperator::lastWindowStart(int64_t time) const {
  int64_t remainder = time % slide_;
  if (remainder < 0) remainder += slide_;
  return time - remainder;
}

bool WindowJoinOperator::windowFired(int64_t start) const {
  return watermark_ != kMinWatermark && start + size_ - 1 <= watermark_;
}

Status WindowJoinOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)out;
  if (input != kLeftSide && input != kRightSide) {
    return Status::invalidArgument("a window join has inputs 0 and 1, got " + std::to_string(input));
  }
  const int side = input;
  const JoinSide& ownSide = plan_->side(side);
  const RecordBatch projected = plan_->project(side, batch);
  const int64_t* times = batch.column(ownSide.eventTimeIndex)->int64s();
  std::vector<int> allStored(static_cast<size_t>(ownSide.storedSchema->numFields()));
  for (size_t i = 0; i < allStored.size(); ++i) allStored[i] = static_cast<int>(i);

  std::string rowBytes;
  std::unordered_map<std::string, int64_t> newEntries;  // (window start, row) → copies
  for (const KeyedRows& group : groupRowsByKey(batch, ownSide.keyColumns, maxParallelism_)) {
    newEntries.clear();
    for (int32_t row : group.rows) {
      const int64_t time = times[row];
      std::string encodedRow;
      RowCodec::encode(projected, allStored, row, encodedRow);
      for (int64_t start = lastWindowStart(time); start > time - size_; start -= slide_) {
        if (windowFired(start)) continue;  // late for this window
        rowBytes.clear();
        RowCodec::appendOrderedInt64(start, rowBytes);
        rowBytes.append(encodedRow);
        ++newEntries[rowBytes];
      }
    }
    for (const auto& [entry, copies] : newEntries) {
      const int64_t start = RowCodec::readOrderedInt64(entry);
      SLUICE_RETURN_NOT_OK(states_[side]->add(group.keyGroup, group.key, start, std::string_view(entry).substr(8),
                                              copies, ownSide.distinct));
      pending_[start].emplace(group.keyGroup, group.key);
    }
  }
  return Status::OK();
}

Status WindowJoinOperator::fireWindow(int64_t start, const std::set<std::pair<int, std::string>>& keys, Output& out) {
  std::vector<ColumnBuilder> builders[2];
  int32_t numRows[2] = {0, 0};
  for (int side = 0; side < 2; ++side) {
    for (const Field& field : plan_->side(side).storedSchema->fields()) builders[side].emplace_back(field.type);
  }
  JoinMatches matches;
  const int64_t eventTime = start + size_ - 1;
  for (const auto& [keyGroup, key] : keys) {
    struct Buffered {
      int32_t row;
      int64_t count;
      std::string bytes;
    };
    std::vector<Buffered> buffered[2];
    for (int side = 0; side < 2; ++side) {
      SLUICE_RETURN_NOT_OK(states_[side]->scan(keyGroup, key, [&](int64_t time, std::string_view row, int64_t count) {
        if (time > start) return false;
        if (time == start) buffered[side].push_back(Buffered{-1, count, std::string(row)});
        return true;
      }));
      for (const Buffered& entry : buffered[side])
        SLUICE_RETURN_NOT_OK(states_[side]->remove(keyGroup, key, start, entry.bytes));
    }
    if (buffered[kLeftSide].empty() || buffered[kRightSide].empty()) continue;
    for (int side = 0; side < 2; ++side) {
      for (Buffered& entry : buffered[side]) {
        SLUICE_RETURN_NOT_OK(RowCodec::decode(entry.bytes, builders[side]));
        entry.row = numRows[side]++;
      }
    }
    for (const Buffered& left : buffered[kLeftSide]) {
      for (const Buffered& right : buffered[kRightSide]) {
        for (int64_t copy = 0; copy < left.count * right.count; ++copy)
          matches.add(left.row, right.row, eventTime, start);
      }
    }
  }
  if (matches.size() == 0) return Status::OK();
  RecordBatch rows[2];
  for (int side = 0; side < 2; ++side) {
    std::vector<ColumnPtr> columns;
    for (ColumnBuilder& builder : builders[side]) columns.push_back(builder.finish());
    rows[side] = RecordBatch(plan_->side(side).storedSchema, numRows[side], std::move(columns));
  }
  return out.emit(plan_->assemble(rows[kLeftSide], rows[kRightSide], matches));
}

Status WindowJoinOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  while (!pending_.empty() && windowFired(pending_.begin()->first)) {
    auto node = pending_.extract(pending_.begin());
    SLUICE_RETURN_NOT_OK(fireWindow(node.key(), node.mapped(), out));
  }
  return out.emitWatermark(timestamp);
}

}  // namespace sluice
