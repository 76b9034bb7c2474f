// Test-only batch building, printing and restartable subtasks for the over tests.
#include "tests/over/over_test_rows.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/base/check.h"
#include "tests/testing/status_matchers.h"

namespace sluice::over::testing {

SchemaPtr makeSchema(std::vector<Field> fields) { return Schema::make(std::move(fields)).value(); }

RecordBatch makeBatch(const SchemaPtr& schema, int eventTimeIndex, const std::vector<std::vector<Value>>& rows) {
  RecordBatchBuilder builder(schema, eventTimeIndex);
  for (const auto& row : rows) {
    SLUICE_CHECK_EQ(static_cast<int>(row.size()), schema->numFields());
    for (int i = 0; i < schema->numFields(); ++i) {
      ColumnBuilder& column = builder.column(i);
      const Value& value = row[i];
      if (std::holds_alternative<std::monostate>(value)) {
        column.appendNull();
      } else if (const auto* integer = std::get_if<int64_t>(&value)) {
        if (schema->field(i).type == DataType::kFloat64) {
          column.appendFloat64(static_cast<double>(*integer));
        } else if (schema->field(i).type == DataType::kUInt64) {
          column.appendUInt64(static_cast<uint64_t>(*integer));
        } else {
          column.appendInt64(*integer);
        }
      } else if (const auto* number = std::get_if<double>(&value)) {
        column.appendFloat64(*number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        column.appendString(*text);
      } else {
        column.appendBool(std::get<bool>(value));
      }
    }
  }
  return builder.finish();
}

std::vector<std::string> rowsOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      std::string text;
      for (int i = 0; i < batch.numColumns(); ++i) {
        const Column& column = *batch.column(i);
        text += (i == 0 ? "" : " ") + batch.schema()->field(i).name + "=";
        if (column.isNull(row)) {
          text += "null";
          continue;
        }
        switch (column.type()) {
          case DataType::kBool: text += column.boolAt(row) ? "true" : "false"; break;
          case DataType::kString: text += std::string(column.stringAt(row)); break;
          case DataType::kFloat64: {
            char buffer[64];
            std::snprintf(buffer, sizeof(buffer), "%g", column.float64s()[row]);
            text += buffer;
            break;
          }
          case DataType::kUInt64: text += std::to_string(column.uint64s()[row]); break;
          default: text += std::to_string(column.int64s()[row]); break;
        }
      }
      rows.push_back(std::move(text));
    }
  }
  return rows;
}

std::vector<std::string> sortedRowsOf(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows = rowsOf(batches);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<int64_t> timesOf(const std::vector<RecordBatch>& batches) {
  std::vector<int64_t> times;
  for (const RecordBatch& batch : batches) {
    for (int64_t row = 0; row < batch.numRows(); ++row) times.push_back(batch.eventTimes()[row]);
  }
  return times;
}

std::unique_ptr<KeyedStateBackend> makeBackend(const std::string& type, const std::string& directory, int first,
                                               int last) {
  StateBackendOptions options;
  options.type = type;
  options.directory = directory;
  options.keyGroups = KeyGroupRange{first, last};
  options.maxParallelism = 128;
  auto backend = createKeyedStateBackend(options);
  SLUICE_CHECK(backend.ok(), backend.status().toString());
  return std::move(backend).value();
}

Subtask::Subtask(Factory factory, std::string backendType, int firstKeyGroup, int lastKeyGroup)
    : factory_(std::move(factory)), backendType_(std::move(backendType)), keyGroups_{firstKeyGroup, lastKeyGroup} {
  start(nullptr, nullptr);
}

void Subtask::start(const OperatorSnapshot* snapshot, const std::vector<StateSnapshot>* states) {
  OperatorContext context;
  context.nodeId = "node";
  context.maxParallelism = 128;
  if (!backendType_.empty()) {
    backend_ = makeBackend(backendType_, directory_.file("backend-" + std::to_string(generation_++)), keyGroups_.first,
                           keyGroups_.last);
    if (states != nullptr) EXPECT_OK(backend_->restore(*states, directory_.file("checkpoints")));
    context.keyedStateBackend = backend_.get();
  }
  harness_ = std::make_unique<sluice::testing::OperatorHarness>(factory_(), context);
  if (snapshot != nullptr) EXPECT_OK(harness_->op().restoreState(*snapshot));
  EXPECT_OK(harness_->open());
}

void Subtask::restart(int64_t checkpointId) {
  OperatorSnapshot snapshot;
  ASSERT_OK(harness_->snapshot(checkpointId, snapshot));
  std::vector<StateSnapshot> states;
  if (backend_ != nullptr) {
    auto state = backend_->snapshot(checkpointId, directory_.file("checkpoints/chk-" + std::to_string(checkpointId)));
    ASSERT_OK(state.status());
    states.push_back(*state);
  }
  for (RecordBatch& batch : harness_->output().batches) previousOutput_.push_back(batch);
  for (RecordBatch& batch : harness_->output().sides["late"]) previousLate_.push_back(batch);
  ASSERT_OK(harness_->close());
  harness_.reset();
  backend_.reset();
  start(&snapshot, &states);
}

std::vector<RecordBatch> Subtask::output() const {
  std::vector<RecordBatch> all = previousOutput_;
  for (const RecordBatch& batch : harness_->output().batches) all.push_back(batch);
  return all;
}

std::vector<RecordBatch> Subtask::late() const {
  std::vector<RecordBatch> all = previousLate_;
  auto it = harness_->output().sides.find("late");
  if (it != harness_->output().sides.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  return all;
}

}  // namespace sluice::over::testing
