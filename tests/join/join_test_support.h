// Helpers shared by the join tests: planning a join node from YAML, keyed state
// backends in a temp directory, and output rows rendered as sortable text.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "operators/join/join_factory.h"
#include "runtime/state/keyed_state_backend.h"
#include "tests/testing/operator_harness.h"
#include "tests/testing/temp_dir.h"

namespace sluice::testing {

inline constexpr int kTestMaxParallelism = 128;

/// Plans a join node of `kind` whose options are the YAML mapping `yaml`.
inline Result<PlannedNode> planJoin(JoinKind kind, const std::string& yaml, const StreamInfo& left,
                                    const StreamInfo& right, const std::string& id = "j") {
  NodeSpec spec;
  spec.id = id;
  spec.options = YAML::Load(yaml);
  return planJoinNode(kind, spec, {left, right});
}

/// Every row of `batches` as "name=value,..." (nulls as "null"), sorted.
inline std::vector<std::string> renderRows(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      std::string text;
      for (int c = 0; c < batch.numColumns(); ++c) {
        const Column& column = *batch.column(c);
        std::string value;
        if (column.isNull(row)) {
          value = "null";
        } else if (column.type() == DataType::kString) {
          value = std::string(column.stringAt(row));
        } else if (column.type() == DataType::kFloat64) {
          value = fmt::format("{}", column.float64s()[row]);
        } else if (column.type() == DataType::kBool) {
          value = column.boolAt(row) ? "true" : "false";
        } else if (column.type() == DataType::kUInt64) {
          value = std::to_string(column.uint64s()[row]);
        } else {
          value = std::to_string(column.int64s()[row]);
        }
        text += (c > 0 ? "," : "") + batch.schema()->field(c).name + "=" + value;
      }
      rows.push_back(std::move(text));
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Creates keyed state backends of one type under a temp directory.
class BackendFactory {
 public:
  explicit BackendFactory(std::string type) : type_(std::move(type)) {}

  std::unique_ptr<KeyedStateBackend> open(KeyGroupRange range = {0, kTestMaxParallelism - 1}) {
    StateBackendOptions options;
    options.type = type_;
    options.directory = temp_.file(fmt::format("work-{}", next_++));
    options.keyGroups = range;
    options.maxParallelism = kTestMaxParallelism;
    auto backend = createKeyedStateBackend(options);
    EXPECT_TRUE(backend.ok()) << backend.status().toString();
    return backend.ok() ? std::move(backend).value() : nullptr;
  }

  /// Snapshots `backend` and restores the snapshot into a fresh backend of the same range.
  std::unique_ptr<KeyedStateBackend> snapshotAndRestore(KeyedStateBackend& backend, KeyGroupRange range,
                                                        int64_t checkpointId) {
    auto snapshot = backend.snapshot(checkpointId, temp_.file(fmt::format("chk-{}", checkpointId)));
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().toString();
    if (!snapshot.ok()) return nullptr;
    auto restored = open(range);
    Status status = restored->restore({*snapshot}, temp_.path().string());
    EXPECT_TRUE(status.ok()) << status.toString();
    return restored;
  }

  const std::string& type() const { return type_; }

 private:
  std::string type_;
  TempDir temp_;
  int next_ = 0;
};

/// An OperatorContext for subtask `subtask` of `parallelism` with `backend`.
inline OperatorContext joinContext(KeyedStateBackend* backend, int subtask = 0, int parallelism = 1) {
  OperatorContext context;
  context.nodeId = "j";
  context.subtaskIndex = subtask;
  context.parallelism = parallelism;
  context.maxParallelism = kTestMaxParallelism;
  context.keyedStateBackend = backend;
  return context;
}

}  // namespace sluice::testing
