// OverAggregateOperator: sorts behind the watermark, then per key and row
// maintains the look-back windows (t - W, t] incrementally in OverHistory.
#include "operators/over/over_aggregate_operator.h"

#include <algorithm>
#include <limits>

#include "operators/over/sort_operator.h"
#include "operators/over/sort_order.h"
#include "operators/window/row_codec.h"
#include "runtime/data/key_group.h"

namespace sluice::over {
namespace {

constexpr const char* kStateBlob = "over-state";
constexpr const char* kHistoryState = "over-history";
constexpr const char* kBufferState = "over-buffer";

bool summable(DataType type) {
  return type == DataType::kInt64 || type == DataType::kUInt64 || type == DataType::kFloat64;
}

}  // namespace

Result<std::shared_ptr<const OverProgram>> OverProgram::compile(const SchemaPtr& input, int eventTimeIndex,
                                                                const OverOptions& options) {
  if (eventTimeIndex < 0) {
    return Status::invalidArgument("the input stream has no event time; declare event_time on its source or map");
  }
  if (options.aggregates.empty()) return Status::invalidArgument("give at least one aggregate");
  auto program = std::make_shared<OverProgram>();
  program->inputSchema_ = input;
  program->eventTimeIndex_ = eventTimeIndex;
  program->ties_ = options.ties;
  SLUICE_ASSIGN_OR_RETURN(program->keyColumns_, resolveKeyColumns(*input, options.keyBy));
  SLUICE_ASSIGN_OR_RETURN(program->tieBreakColumns_, resolveTieBreakColumns(*input, eventTimeIndex, options.orderBy));

  std::vector<std::pair<std::string, std::string>> inputTexts;  // (argument, filter) per layout input
  std::vector<Field> fields = input->fields();
  OverLayout& layout = program->layout_;
  for (const OverAggregateSpec& spec : options.aggregates) {
    const std::string context = "aggregate '" + spec.name + "'";
    std::optional<OverFunction> function = parseOverFunction(spec.function);
    if (!function.has_value()) {
      return Status::invalidArgument(context + ": unknown fn '" + spec.function +
                                     "' (known: count, sum, min, max, count_distinct)");
    }
    if (spec.window <= 0) return Status::invalidArgument(context + ": window must be a positive duration");
    if (spec.argument.empty() && *function != OverFunction::kCount) {
      return Status::invalidArgument(context + ": fn '" + spec.function + "' needs an arg");
    }
    OverLayout::Aggregate aggregate;
    aggregate.name = spec.name;
    aggregate.function = *function;
    aggregate.window = spec.window;
    OverLayout::Input layoutInput;
    ExpressionPtr argument;
    ExpressionPtr filter;
    if (!spec.argument.empty()) {
      auto compiled = compileExpression(spec.argument, *input);
      if (!compiled.ok()) return compiled.status().withContext(context + ": arg");
      argument = *compiled;
      layoutInput.hasValue = true;
      layoutInput.type = argument->type();
    }
    if (!spec.filter.empty()) {
      auto compiled = compileExpression(spec.filter, *input);
      if (!compiled.ok()) return compiled.status().withContext(context + ": filter");
      filter = *compiled;
      if (filter->type() != DataType::kBool) {
        return Status::invalidArgument(context + ": filter must be a bool expression, not " +
                                       std::string(dataTypeName(filter->type())));
      }
    }
    switch (*function) {
      case OverFunction::kCount:
      case OverFunction::kCountDistinct: aggregate.resultType = DataType::kInt64; break;
      case OverFunction::kSum:
        if (!summable(layoutInput.type)) {
          return Status::invalidArgument(context + ": sum needs an int64, uint64 or float64 arg, not " +
                                         std::string(dataTypeName(layoutInput.type)));
        }
        aggregate.resultType = layoutInput.type;
        break;
      case OverFunction::kMin:
      case OverFunction::kMax: aggregate.resultType = layoutInput.type; break;
    }
    // Aggregates over the same (arg, filter) share one input of the history.
    const std::pair<std::string, std::string> text(argument ? argument->toString() : "",
                                                   filter ? filter->toString() : "");
    auto found = std::find(inputTexts.begin(), inputTexts.end(), text);
    aggregate.input = static_cast<int>(found - inputTexts.begin());
    if (found == inputTexts.end()) {
      inputTexts.push_back(text);
      layout.inputs.push_back(layoutInput);
      program->arguments_.push_back(argument);
      program->filters_.push_back(filter);
    }
    layout.maxWindow = std::max(layout.maxWindow, aggregate.window);
    fields.push_back(Field{aggregate.name, aggregate.resultType});
    layout.aggregates.push_back(std::move(aggregate));
  }
  auto schema = Schema::make(std::move(fields));
  if (!schema.ok()) return schema.status().withContext("output fields (the input fields, then the aggregates)");
  program->outputSchema_ = *schema;
  return std::shared_ptr<const OverProgram>(std::move(program));
}

OverAggregateOperator::OverAggregateOperator(std::shared_ptr<const OverProgram> program)
    : program_(std::move(program)),
      buffer_(program_->inputSchema(), program_->eventTimeIndex(), program_->tieBreakColumns()),
      history_(&program_->layout()) {}

Status OverAggregateOperator::restoreState(const OperatorSnapshot& snapshot) {
  auto it = snapshot.blobs.find(kStateBlob);
  if (it != snapshot.blobs.end()) restoredBlob_ = it->second;
  return Status::OK();
}

Status OverAggregateOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  nodeId_ = context.nodeId;
  if (program_->keyed()) {
    if (context.keyedStateBackend == nullptr) {
      return Status::invalidArgument("node '" + nodeId_ + "': a keyed over aggregation needs a keyed state backend");
    }
    store_ = window::makeBackendStateStore(context.keyedStateBackend);
  } else {
    auto memory = std::make_unique<window::MemoryStateStore>();
    memoryStore_ = memory.get();
    if (restoredBlob_.has_value()) {
      Status restored = memory->deserialize(*restoredBlob_);
      if (!restored.ok()) return restored.withContext("node '" + nodeId_ + "'");
    }
    restoredBlob_.reset();
    store_ = std::move(memory);
  }
  SLUICE_ASSIGN_OR_RETURN(historyState_, store_->registerState(kHistoryState, StateKind::kValue));
  SLUICE_ASSIGN_OR_RETURN(bufferState_, store_->registerState(kBufferState, StateKind::kValue));
  Status loaded = buffer_.load(*store_, bufferState_);
  if (!loaded.ok()) return loaded.withContext("node '" + nodeId_ + "'");
  return Status::OK();
}

Status OverAggregateOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
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

Status OverAggregateOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  while (true) {
    RecordBatch chunk = buffer_.release(watermark_, kSortedChunkRows);
    if (chunk.numRows() == 0) break;
    SLUICE_RETURN_NOT_OK(processChunk(chunk, out));
  }
  // Drop keys idle for longer than the largest window, at most once per largest window of event time.
  const int64_t maxWindow = program_->layout().maxWindow;
  if (watermark_ != kMaxWatermark && watermark_ >= std::numeric_limits<int64_t>::min() + maxWindow) {
    if (!lastSweep_.has_value()) {
      lastSweep_ = watermark_;
    } else if (*lastSweep_ <= watermark_ - maxWindow) {
      SLUICE_RETURN_NOT_OK(sweepIdleKeys());
      lastSweep_ = watermark_;
    }
  }
  return out.emitWatermark(timestamp);
}

Status OverAggregateOperator::evaluateInputs(const RecordBatch& chunk) {
  const auto& arguments = program_->arguments();
  const auto& filters = program_->filters();
  inputs_.values.assign(arguments.size(), nullptr);
  inputs_.keep.resize(arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i) {
    inputs_.keep[i].clear();
    if (arguments[i] != nullptr) {
      if (arguments[i]->fieldIndex() >= 0) {
        inputs_.values[i] = chunk.column(arguments[i]->fieldIndex());
      } else {
        auto column = arguments[i]->evaluate(chunk);
        if (!column.ok()) return column.status().withContext("node '" + nodeId_ + "': over arg");
        inputs_.values[i] = *column;
      }
    }
    if (filters[i] != nullptr) {
      auto column = filters[i]->evaluate(chunk);
      if (!column.ok()) return column.status().withContext("node '" + nodeId_ + "': over filter");
      inputs_.keep[i] = trueRowMask(**column);
    }
  }
  return Status::OK();
}

Status OverAggregateOperator::processChunk(const RecordBatch& chunk, Output& out) {
  SLUICE_RETURN_NOT_OK(evaluateInputs(chunk));
  const int64_t numRows = chunk.numRows();
  const auto& aggregates = program_->layout().aggregates;
  results_.resize(aggregates.size());
  for (size_t a = 0; a < aggregates.size(); ++a) results_[a].reset(aggregates[a].resultType, numRows);

  std::vector<uint64_t> hashes;
  if (program_->keyed()) hashes = hashKeys(chunk, program_->keyColumns());
  groups_.clear();
  for (int32_t row = 0; row < static_cast<int32_t>(numRows); ++row) {
    scratch_.clear();
    window::encodeRow(chunk, row, program_->keyColumns(), scratch_);
    groups_.add(scratch_, row);
  }
  groups_.finish();

  const int64_t* times = chunk.eventTimes();
  const bool sequential = program_->ties() == OverTies::kSequential;
  for (size_t group = 0; group < groups_.size(); ++group) {
    const int keyGroup = program_->keyed() ? keyGroupOf(hashes[groups_.firstRow(group)], maxParallelism_) : 0;
    const StateKey stateKey{historyState_, keyGroup, groups_.key(group), {}};
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->get(stateKey));
    if (stored.has_value()) {
      Status decoded = history_.decode(*stored);
      if (!decoded.ok()) return decoded.withContext("node '" + nodeId_ + "'");
    } else {
      history_.clear();
    }
    // Rows of a group are in release order: (time, tie-breaks, arrival).
    const std::span<const int32_t> rows = groups_.rows(group);
    size_t begin = 0;
    while (begin < rows.size()) {
      const int64_t time = times[rows[begin]];
      size_t end = begin + 1;
      if (!sequential) {
        while (end < rows.size() && times[rows[end]] == time) ++end;
      }
      for (size_t i = begin; i < end; ++i) history_.append(time, inputs_, rows[i]);
      history_.advance(time);
      for (size_t i = begin; i < end; ++i) history_.writeResults(results_, rows[i]);
      begin = end;
    }
    encoded_.clear();
    history_.encode(encoded_);
    SLUICE_RETURN_NOT_OK(store_->put(stateKey, encoded_));
  }

  std::vector<ColumnPtr> columns = chunk.columns();
  for (OverResults& result : results_) columns.push_back(result.finish());
  return out.emit(RecordBatch(program_->outputSchema(), numRows, std::move(columns), program_->eventTimeIndex()));
}

Status OverAggregateOperator::sweepIdleKeys() {
  const int64_t limit = watermark_ - program_->layout().maxWindow;
  std::vector<std::pair<int, std::string>> idle;
  SLUICE_RETURN_NOT_OK(
      store_->scanAll(historyState_, [&](int keyGroup, std::string_view key, std::string_view, std::string_view value) {
        std::optional<int64_t> lastTime = OverHistory::lastTimeOf(value);
        if (lastTime.has_value() && *lastTime <= limit) idle.emplace_back(keyGroup, std::string(key));
        return true;
      }));
  for (const auto& [keyGroup, key] : idle) {
    SLUICE_RETURN_NOT_OK(store_->remove(StateKey{historyState_, keyGroup, key, {}}));
  }
  return Status::OK();
}

Status OverAggregateOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  SLUICE_RETURN_NOT_OK(buffer_.checkpoint(*store_, bufferState_, program_->keyColumns(), maxParallelism_));
  if (memoryStore_ != nullptr) snapshot.blobs[kStateBlob] = memoryStore_->serialize();
  return Status::OK();
}

}  // namespace sluice::over
