// OperatorHarness: drives one operator through its lifecycle in a test and
// records everything it emits, like Flink's OneInputStreamOperatorTestHarness.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/task/operator.h"

namespace sluice::testing {

/// Collects what an operator emits. Usable on its own as an Output.
class CollectingOutput : public Output {
 public:
  Status emit(RecordBatch batch) override;
  Status emitSide(std::string_view tag, RecordBatch batch) override;
  Status emitWatermark(int64_t timestamp) override;

  std::vector<RecordBatch> batches;                       // main output
  std::map<std::string, std::vector<RecordBatch>> sides;  // by tag
  std::vector<int64_t> watermarks;
  /// Total rows on the main output.
  int64_t numRows() const;
};

/// Owns an operator and feeds it input. REQUIRES: open() before processing.
class OperatorHarness {
 public:
  explicit OperatorHarness(std::unique_ptr<Operator> op, OperatorContext context = {});
  ~OperatorHarness();

  Status open();
  Status processBatch(const RecordBatch& batch, int input = 0);
  Status processWatermark(int64_t timestamp);
  Status snapshot(int64_t checkpointId, OperatorSnapshot& snapshot);
  Status notifyCheckpointComplete(int64_t checkpointId);
  /// Sends the +infinity watermark, then finish().
  Status endInput();
  Status close();

  Operator& op() { return *op_; }
  CollectingOutput& output() { return output_; }

 private:
  std::unique_ptr<Operator> op_;
  OperatorContext context_;
  CollectingOutput output_;
  bool closed_ = false;
};

}  // namespace sluice::testing
