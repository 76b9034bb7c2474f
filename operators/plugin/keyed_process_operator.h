// KeyedProcessOperator: runs a KeyedProcessFunction over a hash-partitioned
// stream, with per-key state, timers kept in keyed state, and side outputs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/job/node_factory.h"
#include "runtime/task/operator.h"
#include "sluice/keyed_process_function.h"

namespace sluice {

/// What the planner decided for one process node; immutable and shared by its subtasks.
struct KeyedProcessPlan {
  /// Names the function in errors, e.g. "process function 'example.dedup'".
  std::string description;
  StreamInfo input;
  /// key_by fields' indexes in the input.
  std::vector<int> keyColumns;
  StreamInfo output;
  std::map<std::string, StreamInfo> sideOutputs;
  std::function<std::unique_ptr<KeyedProcessFunction>()> createFunction;
};

/// The `process` node's operator. Per batch it groups the rows by key (first
/// appearance order) and calls the function once per key with all that key's
/// rows; rows go out as one batch per output per call.
///
/// Timers: map state `_sluice.process.timers` (record key = the timer's key,
/// user key = [domain: 1 byte][time: 8 bytes, order-preserving], value
/// empty), mirrored by an in-memory ordered set loaded in open(), so timers
/// survive checkpoints and move with their key group on rescale. Event-time
/// timers fire in (time, key group, key) order when a watermark reaches their
/// time, before the watermark is forwarded; a timer registered while firing
/// fires in the same pass when already due. Processing-time timers fire when a
/// batch or watermark arrives at or after their time; at the end of a bounded
/// input they are dropped (the final watermark fires every event-time timer).
///
/// Requires OperatorContext::keyedStateBackend (the node is planned keyed).
/// Exceptions from the function become a failed Status (kUserCodeError).
/// Thread-safety: one task thread, as every operator.
class KeyedProcessOperator final : public Operator {
 public:
  explicit KeyedProcessOperator(std::shared_ptr<const KeyedProcessPlan> plan);
  ~KeyedProcessOperator() override;

  Status open(const OperatorContext& context) override;
  Status processBatch(int input, const RecordBatch& batch, Output& out) override;
  Status processWatermark(int64_t timestamp, Output& out) override;
  Status close() override;

 private:
  class Runtime;
  std::shared_ptr<const KeyedProcessPlan> plan_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace sluice
