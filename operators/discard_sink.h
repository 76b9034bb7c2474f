// DiscardSink: a sink that only counts rows, for benchmarks and tests.
#pragma once

#include <cstdint>

#include "runtime/task/operator.h"

namespace sluice {

/// Drops every batch and counts its rows as written. Single-threaded.
class DiscardSink final : public Operator {
 public:
  Status processBatch(int input, const RecordBatch& batch, Output& out) override {
    (void)input;
    (void)out;
    recordsWritten_ += batch.numRows();
    return Status::OK();
  }
  int64_t recordsWritten() const override { return recordsWritten_; }

 private:
  int64_t recordsWritten_ = 0;
};

}  // namespace sluice
