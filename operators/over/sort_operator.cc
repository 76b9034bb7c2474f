// SortOperator: late-row split, buffering, release on watermark, checkpointing.
#include "operators/over/sort_operator.h"

#include <algorithm>

#include "operators/over/sort_order.h"

namespace sluice::over {
namespace {

constexpr const char* kStateBlob = "sort-state";
constexpr const char* kBufferState = "sort-buffer";

}  // namespace

RecordBatch splitLateRows(const RecordBatch& batch, int64_t watermark, std::vector<int32_t>& onTime) {
  onTime.clear();
  const int64_t* times = batch.eventTimes();
  std::vector<uint8_t> late(static_cast<size_t>(batch.numRows()), 0);
  bool anyLate = false;
  for (int32_t row = 0; row < static_cast<int32_t>(batch.numRows()); ++row) {
    if (times[row] <= watermark) {
      late[row] = 1;
      anyLate = true;
    } else {
      onTime.push_back(row);
    }
  }
  if (!anyLate) return RecordBatch(batch.schema(), 0, {}, batch.eventTimeIndex());
  return batch.filter(late);
}

Result<std::shared_ptr<const SortProgram>> SortProgram::compile(const SchemaPtr& input, int eventTimeIndex,
                                                                const SortOptions& options) {
  if (eventTimeIndex < 0) {
    return Status::invalidArgument("the input stream has no event time; declare event_time on its source or map");
  }
  auto program = std::make_shared<SortProgram>();
  program->schema_ = input;
  program->eventTimeIndex_ = eventTimeIndex;
  SLUICE_ASSIGN_OR_RETURN(program->keyColumns_, resolveKeyColumns(*input, options.keyBy));
  SLUICE_ASSIGN_OR_RETURN(program->tieBreakColumns_, resolveTieBreakColumns(*input, eventTimeIndex, options.orderBy));
  return std::shared_ptr<const SortProgram>(std::move(program));
}

SortOperator::SortOperator(std::shared_ptr<const SortProgram> program)
    : program_(std::move(program)),
      buffer_(program_->schema(), program_->eventTimeIndex(), program_->tieBreakColumns()) {}

Status SortOperator::restoreState(const OperatorSnapshot& snapshot) {
  auto it = snapshot.blobs.find(kStateBlob);
  if (it != snapshot.blobs.end()) restoredBlob_ = it->second;
  return Status::OK();
}

Status SortOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  if (program_->keyed()) {
    if (context.keyedStateBackend == nullptr) {
      return Status::invalidArgument("node '" + context.nodeId + "': a keyed sort needs a keyed state backend");
    }
    store_ = window::makeBackendStateStore(context.keyedStateBackend);
  } else {
    auto memory = std::make_unique<window::MemoryStateStore>();
    memoryStore_ = memory.get();
    if (restoredBlob_.has_value()) {
      Status restored = memory->deserialize(*restoredBlob_);
      if (!restored.ok()) return restored.withContext("node '" + context.nodeId + "'");
    }
    restoredBlob_.reset();
    store_ = std::move(memory);
  }
  SLUICE_ASSIGN_OR_RETURN(bufferState_, store_->registerState(kBufferState, StateKind::kValue));
  return buffer_.load(*store_, bufferState_);
}

Status SortOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  if (batch.numRows() == 0) return Status::OK();
  std::vector<int32_t> onTime;
  RecordBatch late = splitLateRows(batch, watermark_, onTime);
  if (late.numRows() > 0) SLUICE_RETURN_NOT_OK(out.emitSide(kLateTag, std::move(late)));
  if (static_cast<int64_t>(onTime.size()) == batch.numRows()) {
    buffer_.add(batch);
  } else {
    buffer_.add(batch, onTime);
  }
  return Status::OK();
}

Status SortOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  while (true) {
    RecordBatch chunk = buffer_.release(watermark_, kSortedChunkRows);
    if (chunk.numRows() == 0) break;
    SLUICE_RETURN_NOT_OK(out.emit(std::move(chunk)));
  }
  return out.emitWatermark(timestamp);
}

Status SortOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  SLUICE_RETURN_NOT_OK(buffer_.checkpoint(*store_, bufferState_, program_->keyColumns(), maxParallelism_));
  if (memoryStore_ != nullptr) snapshot.blobs[kStateBlob] = memoryStore_->serialize();
  return Status::OK();
}

}  // namespace sluice::over
