// EventTimeSortBuffer: a min-heap of row references over retained batches, and
// its per-key checkpoint format ([sequence: 8 bytes][encodeRow of every column])*.
#include "operators/over/event_time_sort_buffer.h"

#include <algorithm>
#include <map>

#include "runtime/data/key_group.h"

namespace sluice::over {

EventTimeSortBuffer::EventTimeSortBuffer(SchemaPtr schema, int eventTimeIndex, std::vector<int> tieBreakColumns)
    : schema_(std::move(schema)), eventTimeIndex_(eventTimeIndex) {
  for (int column : tieBreakColumns) tieBreaks_.push_back(window::SortField{column, false});
  for (int i = 0; i < schema_->numFields(); ++i) {
    allColumns_.push_back(i);
    allTypes_.push_back(schema_->field(i).type);
  }
}

uint64_t EventTimeSortBuffer::retain(const RecordBatch& batch, int64_t rows) {
  const uint64_t id = nextBatch_++;
  batches_.emplace(id, Retained{batch, rows});
  return id;
}

void EventTimeSortBuffer::push(const RecordBatch& batch, uint64_t batchId, int32_t row, uint64_t sequence) {
  Entry entry{batch.column(eventTimeIndex_)->int64s()[row], {}, sequence, batchId, row};
  if (!tieBreaks_.empty()) window::appendSortKey(batch, row, tieBreaks_, entry.tieKey);
  heap_.push_back(std::move(entry));
  std::push_heap(heap_.begin(), heap_.end(), Later());
}

void EventTimeSortBuffer::add(const RecordBatch& batch, const std::vector<int32_t>& rows) {
  if (rows.empty()) return;
  const uint64_t id = retain(batch, static_cast<int64_t>(rows.size()));
  for (int32_t row : rows) push(batch, id, row, nextSequence_++);
}

void EventTimeSortBuffer::add(const RecordBatch& batch) {
  if (batch.numRows() == 0) return;
  const uint64_t id = retain(batch, batch.numRows());
  for (int32_t row = 0; row < static_cast<int32_t>(batch.numRows()); ++row) push(batch, id, row, nextSequence_++);
}

std::optional<int64_t> EventTimeSortBuffer::minTime() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().time;
}

void EventTimeSortBuffer::releaseRow(uint64_t batchId) {
  auto it = batches_.find(batchId);
  if (--it->second.pending == 0) batches_.erase(it);
}

RecordBatch EventTimeSortBuffer::release(int64_t watermark, int64_t maxRows) {
  std::vector<std::pair<uint64_t, int32_t>> due;
  while (!heap_.empty() && heap_.front().time <= watermark) {
    if (static_cast<int64_t>(due.size()) >= maxRows) {
      // Never split equal event times between chunks.
      const auto& [lastBatch, lastRow] = due.back();
      const int64_t lastTime = batches_.at(lastBatch).batch.column(eventTimeIndex_)->int64s()[lastRow];
      if (heap_.front().time != lastTime) break;
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    due.emplace_back(heap_.back().batch, heap_.back().row);
    heap_.pop_back();
  }
  if (due.empty()) return RecordBatch(schema_, 0, {}, eventTimeIndex_);

  RecordBatch result;
  const uint64_t first = due.front().first;
  const bool oneBatch =
      std::all_of(due.begin(), due.end(), [first](const auto& entry) { return entry.first == first; });
  if (oneBatch) {
    std::vector<int32_t> rows;
    rows.reserve(due.size());
    for (const auto& entry : due) rows.push_back(entry.second);
    result = batches_.at(first).batch.take(rows);
  } else {
    std::vector<const RecordBatch*> sources;
    sources.reserve(due.size());
    for (const auto& entry : due) sources.push_back(&batches_.at(entry.first).batch);
    RecordBatchBuilder builder(schema_, eventTimeIndex_);
    builder.reserve(static_cast<int64_t>(due.size()));
    for (int column = 0; column < schema_->numFields(); ++column) {
      ColumnBuilder& out = builder.column(column);
      for (size_t i = 0; i < due.size(); ++i) out.appendFrom(*sources[i]->column(column), due[i].second);
    }
    result = builder.finish();
  }
  for (const auto& entry : due) releaseRow(entry.first);
  return result;
}

Status EventTimeSortBuffer::checkpoint(window::WindowStateStore& store, int state, const std::vector<int>& keyColumns,
                                       int maxParallelism) {
  // Pending rows grouped by (key group, key), each group in arrival order.
  std::map<std::pair<int, std::string>, std::vector<const Entry*>> groups;
  std::unordered_map<uint64_t, std::vector<uint64_t>> hashes;
  std::string key;
  for (const Entry& entry : heap_) {
    const RecordBatch& batch = batches_.at(entry.batch).batch;
    int keyGroup = 0;
    key.clear();
    if (!keyColumns.empty()) {
      auto [it, inserted] = hashes.try_emplace(entry.batch);
      if (inserted) it->second = hashKeys(batch, keyColumns);
      keyGroup = keyGroupOf(it->second[entry.row], maxParallelism);
      window::encodeRow(batch, entry.row, keyColumns, key);
    }
    groups[{keyGroup, key}].push_back(&entry);
  }
  for (const auto& [keyGroup, storedKey] : checkpointed_) {
    if (groups.count({keyGroup, storedKey}) == 0) {
      SLUICE_RETURN_NOT_OK(store.remove(StateKey{state, keyGroup, storedKey, {}}));
    }
  }
  checkpointed_.clear();
  std::string value;
  for (auto& [address, entries] : groups) {
    std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
    value.clear();
    for (const Entry* entry : entries) {
      window::appendInt64BigEndianOrdered(value, static_cast<int64_t>(entry->sequence));
      window::encodeRow(batches_.at(entry->batch).batch, entry->row, allColumns_, value);
    }
    SLUICE_RETURN_NOT_OK(store.put(StateKey{state, address.first, address.second, {}}, value));
    checkpointed_.insert(address);
  }
  return Status::OK();
}

Status EventTimeSortBuffer::load(window::WindowStateStore& store, int state) {
  RecordBatchBuilder builder(schema_, eventTimeIndex_);
  std::vector<ColumnBuilder*> columns;
  for (int i = 0; i < schema_->numFields(); ++i) columns.push_back(&builder.column(i));
  std::vector<uint64_t> sequences;
  Status failure;
  SLUICE_RETURN_NOT_OK(
      store.scanAll(state, [&](int keyGroup, std::string_view key, std::string_view, std::string_view value) {
        checkpointed_.emplace(keyGroup, std::string(key));
        while (!value.empty()) {
          if (value.size() < 8) {
            failure = Status::corruption("sort buffer state: truncated row");
            return false;
          }
          sequences.push_back(static_cast<uint64_t>(window::readInt64BigEndianOrdered(value.data())));
          value.remove_prefix(8);
          Status decoded = window::decodeRow(value, allTypes_, columns);
          if (!decoded.ok()) {
            failure = decoded.withContext("sort buffer state");
            return false;
          }
        }
        return true;
      }));
  SLUICE_RETURN_NOT_OK(failure);
  if (sequences.empty()) return Status::OK();
  RecordBatch batch = builder.finish();
  const uint64_t id = retain(batch, batch.numRows());
  for (int32_t row = 0; row < static_cast<int32_t>(batch.numRows()); ++row) {
    push(batch, id, row, sequences[row]);
    nextSequence_ = std::max(nextSequence_, sequences[row] + 1);
  }
  return Status::OK();
}

}  // namespace sluice::over
