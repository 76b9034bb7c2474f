// OutputRouter: the Output an operator inside a task writes to, routing each
// tag's batches to fused downstream operators and/or record writers.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "runtime/task/operator.h"
#include "runtime/task/record_writer.h"

namespace sluice {

/// Routes the main output ("") and side outputs (by tag) of one operator.
/// A target is either the next operator of the chain (called directly, no
/// copy, no queue) or a RecordWriter towards other subtasks. Watermarks go
/// to every target of every tag. Owned by the task; used on its thread only.
class OutputRouter : public Output {
 public:
  void addChained(const std::string& tag, Operator* next, OutputRouter* nextOutput, int input);
  void addWriter(const std::string& tag, RecordWriter* writer);

  Status emit(RecordBatch batch) override { return route("", batch); }
  Status emitSide(std::string_view tag, RecordBatch batch) override { return route(tag, batch); }
  Status emitWatermark(int64_t timestamp) override;

  int64_t recordsOut() const { return recordsOut_; }
  /// The last watermark this operator emitted; readable from any thread.
  int64_t currentWatermark() const { return watermark_.load(std::memory_order_relaxed); }

 private:
  struct Target {
    Operator* next = nullptr;
    OutputRouter* nextOutput = nullptr;
    int input = 0;
    RecordWriter* writer = nullptr;
  };
  Status route(std::string_view tag, const RecordBatch& batch);

  std::map<std::string, std::vector<Target>, std::less<>> targets_;
  int64_t recordsOut_ = 0;
  std::atomic<int64_t> watermark_{kMinWatermark};
};

}  // namespace sluice
