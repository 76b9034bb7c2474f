#include "runtime/task/output_router.h"

namespace sluice {

void OutputRouter::addChained(const std::string& tag, Operator* next, OutputRouter* nextOutput, int input) {
  targets_[tag].push_back(Target{next, nextOutput, input, nullptr});
}

void OutputRouter::addWriter(const std::string& tag, RecordWriter* writer) {
  targets_[tag].push_back(Target{nullptr, nullptr, 0, writer});
}

Status OutputRouter::route(std::string_view tag, const RecordBatch& batch) {
  if (batch.numRows() == 0) return Status::OK();
  auto found = targets_.find(tag);
  if (found == targets_.end()) return Status::OK();
  recordsOut_ += batch.numRows();
  for (const Target& target : found->second) {
    if (target.writer != nullptr) {
      SLUICE_RETURN_NOT_OK(target.writer->write(batch));
    } else {
      SLUICE_RETURN_NOT_OK(target.next->processBatch(target.input, batch, *target.nextOutput));
    }
  }
  return Status::OK();
}

Status OutputRouter::emitWatermark(int64_t timestamp) {
  if (timestamp <= watermark_.load(std::memory_order_relaxed)) return Status::OK();
  watermark_.store(timestamp, std::memory_order_relaxed);
  for (const auto& [tag, targets] : targets_) {
    for (const Target& target : targets) {
      if (target.writer != nullptr) {
        SLUICE_RETURN_NOT_OK(target.writer->broadcast(Watermark{timestamp}));
      } else {
        SLUICE_RETURN_NOT_OK(target.next->processWatermark(timestamp, *target.nextOutput));
      }
    }
  }
  return Status::OK();
}

}  // namespace sluice
