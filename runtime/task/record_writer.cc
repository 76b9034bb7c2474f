#include "runtime/task/record_writer.h"

#include <algorithm>

#include "runtime/data/key_group.h"

namespace sluice {

RecordWriter::RecordWriter(Options options, std::vector<OutputChannel*> channels)
    : options_(std::move(options)), channels_(std::move(channels)), pending_(channels_.size()) {
  nextChannel_ = static_cast<size_t>(options_.producerSubtask) % std::max<size_t>(channels_.size(), 1);
}

Status RecordWriter::write(const RecordBatch& batch) {
  if (batch.numRows() == 0 || channels_.empty()) return Status::OK();
  recordsOut_ += batch.numRows();
  switch (options_.partitioning.kind) {
    case PartitionKind::kForward:
      return append(static_cast<size_t>(options_.producerSubtask) % channels_.size(), batch);
    case PartitionKind::kRebalance: {
      size_t target = nextChannel_;
      nextChannel_ = (nextChannel_ + 1) % channels_.size();
      return append(target, batch);
    }
    case PartitionKind::kBroadcast:
      for (size_t i = 0; i < channels_.size(); ++i) SLUICE_RETURN_NOT_OK(append(i, batch));
      return Status::OK();
    case PartitionKind::kHash: {
      if (channels_.size() == 1) return append(0, batch);
      std::vector<uint64_t> hashes = hashKeys(batch, options_.partitioning.keyColumns);
      int parallelism = static_cast<int>(channels_.size());
      std::vector<std::vector<int32_t>> rowsPerChannel(channels_.size());
      for (auto& rows : rowsPerChannel) rows.reserve(static_cast<size_t>(batch.numRows()) / channels_.size() + 16);
      for (int64_t row = 0; row < batch.numRows(); ++row) {
        int group = keyGroupOf(hashes[row], options_.maxParallelism);
        rowsPerChannel[subtaskForKeyGroup(group, parallelism, options_.maxParallelism)].push_back(
            static_cast<int32_t>(row));
      }
      for (size_t i = 0; i < channels_.size(); ++i) {
        if (rowsPerChannel[i].empty()) continue;
        if (static_cast<int64_t>(rowsPerChannel[i].size()) == batch.numRows()) {
          SLUICE_RETURN_NOT_OK(append(i, batch));
        } else {
          SLUICE_RETURN_NOT_OK(append(i, batch.take(rowsPerChannel[i])));
        }
      }
      return Status::OK();
    }
  }
  return Status::internal("unknown partitioning");
}

Status RecordWriter::append(size_t channel, RecordBatch batch) {
  Pending& pending = pending_[channel];
  // A batch of at least half the target size goes out as it is: merging it with
  // the next one would copy every row only to make the message at most twice as
  // large (a source's batches of a few thousand rows, sent round-robin, would
  // otherwise all be copied once more on their way to the network).
  if (pending.batches.empty() && batch.numRows() >= std::max<int64_t>(options_.targetRows / 2, 1)) {
    return pushTimed(channel, std::move(batch));
  }
  if (pending.batches.empty()) pending.since = std::chrono::steady_clock::now();
  pending.rows += batch.numRows();
  bufferedRows_ += batch.numRows();
  pending.batches.push_back(std::move(batch));
  if (pending.rows >= options_.targetRows || options_.bufferTimeout.count() == 0) return flushChannel(channel);
  return Status::OK();
}

Status RecordWriter::flushChannel(size_t channel) {
  Pending& pending = pending_[channel];
  if (pending.batches.empty()) return Status::OK();
  RecordBatch merged = RecordBatch::concat(pending.batches);
  bufferedRows_ -= pending.rows;
  pending.batches.clear();
  pending.rows = 0;
  return pushTimed(channel, std::move(merged));
}

Status RecordWriter::pushTimed(size_t channel, StreamElement element) {
  auto start = std::chrono::steady_clock::now();
  Status status = channels_[channel]->push(std::move(element));
  blockedNanos_.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count(),
      std::memory_order_relaxed);
  return status;
}

Status RecordWriter::flush() {
  if (bufferedRows_ == 0) return Status::OK();
  for (size_t i = 0; i < channels_.size(); ++i) SLUICE_RETURN_NOT_OK(flushChannel(i));
  return Status::OK();
}

Status RecordWriter::flushIfDue(std::chrono::steady_clock::time_point now) {
  if (bufferedRows_ == 0) return Status::OK();
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (!pending_[i].batches.empty() && now - pending_[i].since >= options_.bufferTimeout) {
      SLUICE_RETURN_NOT_OK(flushChannel(i));
    }
  }
  return Status::OK();
}

Status RecordWriter::broadcast(const StreamElement& element) {
  SLUICE_RETURN_NOT_OK(flush());
  for (auto* channel : channels_) SLUICE_RETURN_NOT_OK(channel->push(element));
  return Status::OK();
}

}  // namespace sluice
