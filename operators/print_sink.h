// PrintSink: writes every row to standard output as a JSON line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "operators/json_line_writer.h"
#include "runtime/task/operator.h"

namespace sluice {

/// Writes each batch as JSON lines with one write(2) under a process-wide
/// mutex, so lines of concurrent subtasks never interleave. For demos and
/// debugging: it has no commit protocol. The descriptor is stdout unless a
/// test passes another.
class PrintSink final : public Operator {
 public:
  explicit PrintSink(int fd = 1) : fd_(fd) {}

  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  int64_t recordsWritten() const override { return recordsWritten_; }

 private:
  int fd_;
  std::unique_ptr<JsonLineWriter> writer_;
  std::string buffer_;
  int64_t recordsWritten_ = 0;
};

}  // namespace sluice
