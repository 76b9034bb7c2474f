// WindowJoinOperator: buffer per (key, window) in memory (written behind to
// the backend), join and clear on the watermark.
#include "operators/join/window_join_operator.h"

#include <algorithm>

#include "operators/join/keyed_rows.h"
#include "operators/join/row_codec.h"

namespace sluice {

WindowJoinOperator::WindowJoinOperator(std::shared_ptr<const JoinPlan> plan, size_t maxBufferedRows)
    : plan_(std::move(plan)),
      size_(plan_->options().windowSize),
      slide_(plan_->options().windowSlide),
      maxBufferedRows_(std::max<size_t>(maxBufferedRows, 1)) {}

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
      pending_[start][std::make_pair(keyGroup, std::string(key))].stored = true;
    }));
  }
  return Status::OK();
}

void WindowJoinOperator::normalize(std::vector<BufferedRow>& rows, bool distinct) {
  if (rows.size() < 2) return;
  std::stable_sort(rows.begin(), rows.end(),
                   [](const BufferedRow& a, const BufferedRow& b) { return a.bytes < b.bytes; });
  size_t kept = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (kept > 0 && rows[kept - 1].bytes == rows[i].bytes) {
      BufferedRow& merged = rows[kept - 1];
      const int64_t count = distinct ? 1 : merged.count + rows[i].count;
      merged.dirty = merged.dirty || rows[i].dirty || count != merged.count;
      merged.count = count;
      merged.persisted = merged.persisted || rows[i].persisted;
      continue;
    }
    if (kept != i) rows[kept] = std::move(rows[i]);
    ++kept;
  }
  rows.resize(kept);
}

Status WindowJoinOperator::writeRows(int64_t start, int keyGroup, std::string_view key, WindowKeyRows& entry) {
  if (!entry.dirty) return Status::OK();
  for (int side = 0; side < 2; ++side) {
    const size_t before = entry.rows[side].size();
    normalize(entry.rows[side], plan_->side(side).distinct);
    bufferedRows_ -= before - entry.rows[side].size();
    for (BufferedRow& row : entry.rows[side]) {
      if (!row.dirty) continue;
      SLUICE_RETURN_NOT_OK(states_[side]->put(keyGroup, key, start, row.bytes, row.count));
      row.dirty = false;
      row.persisted = true;
    }
  }
  entry.dirty = false;
  return Status::OK();
}

Status WindowJoinOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  (void)snapshot;
  for (auto& [start, keys] : pending_) {
    for (auto& [address, entry] : keys) SLUICE_RETURN_NOT_OK(writeRows(start, address.first, address.second, entry));
  }
  return Status::OK();
}

Status WindowJoinOperator::evictAll() {
  for (auto& [start, keys] : pending_) {
    for (auto& [address, entry] : keys) {
      if (entry.stored) continue;
      SLUICE_RETURN_NOT_OK(writeRows(start, address.first, address.second, entry));
      entry.stored = true;
      for (auto& rows : entry.rows) rows = {};
    }
  }
  bufferedRows_ = 0;
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

  std::string encodedRow;
  const bool distinct = ownSide.distinct;
  for (const KeyedRows& group : groupRowsByKey(batch, ownSide.keyColumns, maxParallelism_)) {
    int64_t cachedStart = 0;
    WindowKeyRows* cached = nullptr;  // the entry of (cachedStart, group key): rows of a key mostly share windows
    for (int32_t row : group.rows) {
      const int64_t time = times[row];
      encodedRow.clear();
      RowCodec::encode(projected, allStored, row, encodedRow);
      for (int64_t start = lastWindowStart(time); start > time - size_; start -= slide_) {
        if (windowFired(start)) continue;  // late for this window
        if (cached == nullptr || cachedStart != start) {
          cached = &pending_[start][std::make_pair(group.keyGroup, group.key)];
          cachedStart = start;
        }
        if (cached->stored) {
          SLUICE_RETURN_NOT_OK(states_[side]->add(group.keyGroup, group.key, start, encodedRow, 1, distinct));
          continue;
        }
        cached->rows[side].push_back(BufferedRow{encodedRow, 1, true, false});
        cached->dirty = true;
        ++bufferedRows_;
      }
    }
  }
  if (bufferedRows_ > maxBufferedRows_) SLUICE_RETURN_NOT_OK(evictAll());
  return Status::OK();
}

Status WindowJoinOperator::fireWindow(int64_t start, WindowKeys& keys, Output& out) {
  std::vector<ColumnBuilder> builders[2];
  int32_t numRows[2] = {0, 0};
  for (int side = 0; side < 2; ++side) {
    for (const Field& field : plan_->side(side).storedSchema->fields()) builders[side].emplace_back(field.type);
  }
  JoinMatches matches;
  const int64_t eventTime = start + size_ - 1;
  struct Buffered {
    int32_t row;
    int64_t count;
    std::string bytes;
  };
  std::vector<Buffered> buffered[2];
  for (auto& [address, keyRows] : keys) {
    const auto& [keyGroup, key] = address;
    for (int side = 0; side < 2; ++side) {
      buffered[side].clear();
      if (keyRows.stored) {
        SLUICE_RETURN_NOT_OK(states_[side]->scan(keyGroup, key, [&](int64_t time, std::string_view row, int64_t count) {
          if (time > start) return false;
          if (time == start) buffered[side].push_back(Buffered{-1, count, std::string(row)});
          return true;
        }));
        for (const Buffered& entry : buffered[side])
          SLUICE_RETURN_NOT_OK(states_[side]->remove(keyGroup, key, start, entry.bytes));
        continue;
      }
      std::vector<BufferedRow>& own = keyRows.rows[side];
      bufferedRows_ -= own.size();
      normalize(own, plan_->side(side).distinct);
      for (BufferedRow& row : own) {
        if (row.persisted) SLUICE_RETURN_NOT_OK(states_[side]->remove(keyGroup, key, start, row.bytes));
        buffered[side].push_back(Buffered{-1, row.count, std::move(row.bytes)});
      }
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
