// StreamJoinOperator: probe-then-buffer per key for regular and interval joins.
#include "operators/join/stream_join_operator.h"

#include <algorithm>
#include <unordered_map>

#include "operators/join/keyed_rows.h"
#include "operators/join/row_codec.h"

namespace sluice {

StreamJoinOperator::StreamJoinOperator(std::shared_ptr<const JoinPlan> plan) : plan_(std::move(plan)) {}

Status StreamJoinOperator::open(const OperatorContext& context) {
  if (context.keyedStateBackend == nullptr) {
    return Status::internal("node '" + context.nodeId + "': a join needs a keyed state backend");
  }
  maxParallelism_ = context.maxParallelism;
  const auto ttl = plan_->options().ttl;
  SLUICE_ASSIGN_OR_RETURN(states_[kLeftSide], JoinSideState::create(*context.keyedStateBackend, "join-left", ttl));
  SLUICE_ASSIGN_OR_RETURN(states_[kRightSide], JoinSideState::create(*context.keyedStateBackend, "join-right", ttl));
  if (isInterval()) {
    for (int side = 0; side < 2; ++side) {
      SLUICE_RETURN_NOT_OK(states_[side]->scanAll([&](int keyGroup, std::string_view key, int64_t time) {
        scheduleRemoval(side, keyGroup, std::string(key), time);
      }));
    }
  }
  return Status::OK();
}

bool StreamJoinOperator::timesMatch(int64_t leftTime, int64_t rightTime) const {
  if (!isInterval()) return true;
  return leftTime >= rightTime + plan_->options().lower && leftTime <= rightTime + plan_->options().upper;
}

int64_t StreamJoinOperator::removalTime(int side, int64_t time) const {
  // Future rows of the other side have times >= the watermark.
  return side == kLeftSide ? time - plan_->options().lower : time + plan_->options().upper;
}

void StreamJoinOperator::scheduleRemoval(int side, int keyGroup, const std::string& key, int64_t time) {
  const int64_t removal = removalTime(side, time);
  auto [position, inserted] = removalOfKey_.try_emplace({side, keyGroup, key}, removal);
  if (!inserted) {
    if (position->second <= removal) return;
    removals_.erase({position->second, side, keyGroup, key});
    position->second = removal;
  }
  removals_.insert({removal, side, keyGroup, key});
}

Status StreamJoinOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  if (input != kLeftSide && input != kRightSide) {
    return Status::invalidArgument("a join has inputs 0 and 1, got " + std::to_string(input));
  }
  const int side = input;
  const int other = 1 - side;
  const JoinSide& ownSide = plan_->side(side);
  const RecordBatch projected = plan_->project(side, batch);
  const int64_t* times = ownSide.eventTimeIndex >= 0 ? batch.column(ownSide.eventTimeIndex)->int64s() : nullptr;
  auto timeOf = [&](int32_t row) { return times != nullptr ? times[row] : 0; };

  std::vector<int> allStored(static_cast<size_t>(ownSide.storedSchema->numFields()));
  for (size_t i = 0; i < allStored.size(); ++i) allStored[i] = static_cast<int>(i);

  std::vector<ColumnBuilder> otherBuilders;
  for (const Field& field : plan_->side(other).storedSchema->fields()) otherBuilders.emplace_back(field.type);
  int32_t numOtherRows = 0;
  JoinMatches matches;

  Status decodeStatus;
  std::string rowBytes;
  std::unordered_map<std::string, int64_t> newEntries;  // (time, row) of this key → copies
  for (KeyedRows& group : groupRowsByKey(batch, ownSide.keyColumns, maxParallelism_)) {
    if (isInterval()) {
      std::erase_if(group.rows, [&](int32_t row) { return timeOf(row) < watermark_; });
      if (group.rows.empty()) continue;
    }
    SLUICE_RETURN_NOT_OK(
        states_[other]->scan(group.keyGroup, group.key, [&](int64_t otherTime, std::string_view row, int64_t count) {
          bool decoded = false;
          for (int32_t newRow : group.rows) {
            const int64_t ownTime = timeOf(newRow);
            if (!(side == kLeftSide ? timesMatch(ownTime, otherTime) : timesMatch(otherTime, ownTime))) continue;
            if (!decoded) {
              decodeStatus = RowCodec::decode(row, otherBuilders);
              if (!decodeStatus.ok()) return false;
              decoded = true;
              ++numOtherRows;
            }
            const int32_t otherIndex = numOtherRows - 1;
            const int64_t eventTime = std::max(ownTime, otherTime);
            for (int64_t copy = 0; copy < count; ++copy) {
              if (side == kLeftSide) {
                matches.add(newRow, otherIndex, eventTime, 0);
              } else {
                matches.add(otherIndex, newRow, eventTime, 0);
              }
            }
          }
          return true;
        }));
    SLUICE_RETURN_NOT_OK(decodeStatus);

    newEntries.clear();
    for (int32_t row : group.rows) {
      const int64_t time = timeOf(row);
      if (isInterval() && removalTime(side, time) < watermark_) continue;  // can match no future row
      rowBytes.clear();
      RowCodec::appendOrderedInt64(time, rowBytes);
      RowCodec::encode(projected, allStored, row, rowBytes);
      ++newEntries[rowBytes];
    }
    for (const auto& [entry, copies] : newEntries) {
      const int64_t time = RowCodec::readOrderedInt64(entry);
      SLUICE_RETURN_NOT_OK(states_[side]->add(group.keyGroup, group.key, time, std::string_view(entry).substr(8),
                                              copies, /*distinct=*/false));
      if (isInterval()) scheduleRemoval(side, group.keyGroup, group.key, time);
    }
  }
  if (matches.size() == 0) return Status::OK();

  std::vector<ColumnPtr> otherColumns;
  for (ColumnBuilder& builder : otherBuilders) otherColumns.push_back(builder.finish());
  RecordBatch otherBatch(plan_->side(other).storedSchema, numOtherRows, std::move(otherColumns));
  return side == kLeftSide ? out.emit(plan_->assemble(projected, otherBatch, matches))
                           : out.emit(plan_->assemble(otherBatch, projected, matches));
}

Status StreamJoinOperator::removeExpired(int64_t watermark) {
  while (!removals_.empty() && std::get<0>(*removals_.begin()) < watermark) {
    auto [removal, side, keyGroup, key] = *removals_.begin();
    removals_.erase(removals_.begin());
    removalOfKey_.erase({side, keyGroup, key});
    std::vector<std::pair<int64_t, std::string>> expired;
    std::optional<int64_t> earliestKept;
    SLUICE_RETURN_NOT_OK(states_[side]->scan(keyGroup, key, [&](int64_t time, std::string_view row, int64_t) {
      if (removalTime(side, time) < watermark) {
        expired.emplace_back(time, std::string(row));
      } else if (!earliestKept.has_value()) {
        earliestKept = time;
      }
      return true;
    }));
    for (const auto& [time, row] : expired) SLUICE_RETURN_NOT_OK(states_[side]->remove(keyGroup, key, time, row));
    if (earliestKept.has_value()) scheduleRemoval(side, keyGroup, key, *earliestKept);
  }
  return Status::OK();
}

Status StreamJoinOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  if (isInterval()) SLUICE_RETURN_NOT_OK(removeExpired(watermark_));
  return out.emitWatermark(timestamp);
}

}  // namespace sluice
