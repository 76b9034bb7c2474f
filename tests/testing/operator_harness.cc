#include "tests/testing/operator_harness.h"

namespace sluice::testing {

Status CollectingOutput::emit(RecordBatch batch) {
  batches.push_back(std::move(batch));
  return Status::OK();
}

Status CollectingOutput::emitSide(std::string_view tag, RecordBatch batch) {
  sides[std::string(tag)].push_back(std::move(batch));
  return Status::OK();
}

Status CollectingOutput::emitWatermark(int64_t timestamp) {
  watermarks.push_back(timestamp);
  return Status::OK();
}

int64_t CollectingOutput::numRows() const {
  int64_t rows = 0;
  for (const auto& batch : batches) rows += batch.numRows();
  return rows;
}

OperatorHarness::OperatorHarness(std::unique_ptr<Operator> op, OperatorContext context)
    : op_(std::move(op)), context_(std::move(context)) {}

OperatorHarness::~OperatorHarness() {
  if (!closed_) ignoreError(op_->close());
}

Status OperatorHarness::open() { return op_->open(context_); }
Status OperatorHarness::processBatch(const RecordBatch& batch, int input) {
  return op_->processBatch(input, batch, output_);
}
Status OperatorHarness::processWatermark(int64_t timestamp) { return op_->processWatermark(timestamp, output_); }
Status OperatorHarness::snapshot(int64_t checkpointId, OperatorSnapshot& snapshot) {
  return op_->snapshotState(checkpointId, snapshot);
}
Status OperatorHarness::notifyCheckpointComplete(int64_t checkpointId) {
  return op_->notifyCheckpointComplete(checkpointId);
}
Status OperatorHarness::endInput() {
  SLUICE_RETURN_NOT_OK(op_->processWatermark(kMaxWatermark, output_));
  return op_->finish(output_);
}
Status OperatorHarness::close() {
  closed_ = true;
  return op_->close();
}

}  // namespace sluice::testing
