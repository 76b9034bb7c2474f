// Test-only helpers for the over tests: literal batches, printable rows,
// keyed state backends, and subtasks that can be snapshotted and restored.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "runtime/data/record_batch.h"
#include "runtime/state/keyed_state_backend.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/temp_dir.h"

namespace sluice::over::testing {

/// One cell: null, int64 (also timestamps and uint64), float64, string or bool.
using Value = std::variant<std::monostate, int64_t, double, std::string, bool>;

SchemaPtr makeSchema(std::vector<Field> fields);
/// A batch of `rows` (one Value per field) with event-time field `eventTimeIndex`.
RecordBatch makeBatch(const SchemaPtr& schema, int eventTimeIndex, const std::vector<std::vector<Value>>& rows);

/// Every row of `batches` as "name=value ..." (nulls as "null"), in order.
std::vector<std::string> rowsOf(const std::vector<RecordBatch>& batches);
/// rowsOf, sorted (a multiset comparison).
std::vector<std::string> sortedRowsOf(const std::vector<RecordBatch>& batches);
/// The event times of every row of `batches`, in order.
std::vector<int64_t> timesOf(const std::vector<RecordBatch>& batches);

/// A backend of `type` ("hashmap" | "rocksdb") owning key groups [first, last] of 128, under `directory`.
std::unique_ptr<KeyedStateBackend> makeBackend(const std::string& type, const std::string& directory, int first = 0,
                                               int last = 127);

/// One operator subtask in a harness with its own backend (when keyed), that
/// can be checkpointed and replaced by a fresh, restored instance.
class Subtask {
 public:
  using Factory = std::function<std::unique_ptr<Operator>()>;
  /// `backendType` empty: no keyed backend (a global operator).
  Subtask(Factory factory, std::string backendType, int firstKeyGroup = 0, int lastKeyGroup = 127);
  sluice::testing::OperatorHarness& harness() { return *harness_; }
  /// Snapshots operator and backend, closes them, and opens a fresh operator
  /// (and backend) restored from the snapshot. Output collected so far is kept.
  void restart(int64_t checkpointId);
  /// Everything emitted on the main output / on side output "late", across restarts.
  std::vector<RecordBatch> output() const;
  std::vector<RecordBatch> late() const;

 private:
  void start(const OperatorSnapshot* snapshot, const std::vector<StateSnapshot>* states);

  Factory factory_;
  std::string backendType_;
  KeyGroupRange keyGroups_;
  sluice::testing::TempDir directory_;
  int generation_ = 0;
  std::unique_ptr<KeyedStateBackend> backend_;
  std::unique_ptr<sluice::testing::OperatorHarness> harness_;
  std::vector<RecordBatch> previousOutput_;
  std::vector<RecordBatch> previousLate_;
};

}  // namespace sluice::over::testing
