// KeyedProcessOperator: key grouping, the process context, timers and buffered outputs.
#include "operators/plugin/keyed_process_operator.h"

#include <chrono>
#include <exception>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "operators/window/row_codec.h"
#include "runtime/base/clock.h"
#include "runtime/state/key_context.h"
#include "runtime/task/stream_element.h"

namespace sluice {
namespace {

constexpr const char* kTimerState = "_sluice.process.timers";
/// Rows an output buffers before it is emitted within a call.
constexpr int64_t kFlushRows = 4096;

bool sameLayout(DataType a, DataType b) { return a == b || (isInt64Like(a) && isInt64Like(b)); }

std::vector<DataType> typesOf(const Schema& schema) {
  std::vector<DataType> types;
  for (const Field& field : schema.fields()) types.push_back(field.type);
  return types;
}

/// One output stream's pending rows.
class BufferedRows final : public OutputRows {
 public:
  BufferedRows(std::string name, const StreamInfo& info, const std::vector<DataType>& inputTypes)
      : name_(std::move(name)),
        schema_(info.schema),
        types_(typesOf(*info.schema)),
        builder_(info.schema, info.eventTimeIndex) {
    encodable_ = types_.size() == inputTypes.size();
    for (size_t i = 0; encodable_ && i < types_.size(); ++i) encodable_ = sameLayout(types_[i], inputTypes[i]);
    resetPointers();
  }

  const SchemaPtr& schema() const override { return schema_; }

  Status append(const RecordBatch& batch, int64_t row) override {
    SLUICE_RETURN_NOT_OK(checkAppend(batch));
    for (size_t i = 0; i < types_.size(); ++i) builder_.column(static_cast<int>(i)).appendFrom(*batch.column(i), row);
    ++rows_;
    return Status::OK();
  }

  Status append(const RecordBatch& batch, std::span<const int32_t> rows) override {
    SLUICE_RETURN_NOT_OK(checkAppend(batch));
    for (size_t i = 0; i < types_.size(); ++i) {
      ColumnBuilder& column = builder_.column(static_cast<int>(i));
      const Column& source = *batch.column(static_cast<int>(i));
      for (int32_t row : rows) column.appendFrom(source, row);
    }
    rows_ += static_cast<int64_t>(rows.size());
    return Status::OK();
  }

  Status appendEncoded(std::string_view encodedRow) override {
    if (!encodable_) {
      return Status::invalidArgument(
          fmt::format("{} ({}) does not have the input's column types, so it cannot take rows stored with encodeRow",
                      name_, schema_->toString()));
    }
    SLUICE_RETURN_NOT_OK(checkComplete());
    std::string_view in = encodedRow;
    Status decoded = window::decodeRow(in, types_, pointers_);
    if (!decoded.ok() || !in.empty()) {
      return Status::corruption(fmt::format("{}: appendEncoded got bytes that encodeRow did not write", name_));
    }
    ++rows_;
    return Status::OK();
  }

  ColumnBuilder& column(int index) override { return builder_.column(index); }

  Status endRow() override {
    for (size_t i = 0; i < types_.size(); ++i) {
      int64_t length = builder_.column(static_cast<int>(i)).length();
      if (length != rows_ + 1) {
        return Status::invalidArgument(fmt::format("{}: endRow() with {} new values in column '{}', expected exactly 1",
                                                   name_, length - rows_, schema_->field(static_cast<int>(i)).name));
      }
    }
    ++rows_;
    return Status::OK();
  }

  int64_t pending() const { return rows_; }

  /// The buffered rows as a batch (nullopt when none); the buffer starts over.
  Result<std::optional<RecordBatch>> take() {
    if (rows_ == 0) return std::optional<RecordBatch>();
    SLUICE_RETURN_NOT_OK(checkComplete());
    RecordBatch batch = builder_.finish();
    rows_ = 0;
    resetPointers();
    return std::optional<RecordBatch>(std::move(batch));
  }

 private:
  void resetPointers() {
    pointers_.clear();
    for (size_t i = 0; i < types_.size(); ++i) pointers_.push_back(&builder_.column(static_cast<int>(i)));
  }
  Status checkComplete() const {
    for (size_t i = 0; i < types_.size(); ++i) {
      if (builder_.numRows() != rows_ || pointers_[i]->length() != rows_) {
        return Status::invalidArgument(fmt::format("{}: a row built with column() lacks its endRow()", name_));
      }
    }
    return Status::OK();
  }
  Status checkAppend(const RecordBatch& batch) {
    SLUICE_RETURN_NOT_OK(checkComplete());
    if (batch.schema() == checked_) return Status::OK();
    bool fits = batch.numColumns() == static_cast<int>(types_.size());
    for (int i = 0; fits && i < batch.numColumns(); ++i) fits = sameLayout(batch.column(i)->type(), types_[i]);
    if (!fits) {
      return Status::invalidArgument(fmt::format("{} ({}) cannot take a row of ({}): the column types differ", name_,
                                                 schema_->toString(), batch.schema()->toString()));
    }
    checked_ = batch.schema();  // kept alive, so the pointer comparison above stays sound
    return Status::OK();
  }

  std::string name_;
  SchemaPtr schema_;
  std::vector<DataType> types_;
  RecordBatchBuilder builder_;
  std::vector<ColumnBuilder*> pointers_;
  int64_t rows_ = 0;
  bool encodable_ = false;
  SchemaPtr checked_;
};

/// The function's Collector: the main output and the declared side outputs.
class BufferedCollector final : public Collector {
 public:
  BufferedCollector(const KeyedProcessPlan& plan, const std::vector<DataType>& inputTypes)
      : main_("main output", plan.output, inputTypes) {
    for (const auto& [tag, info] : plan.sideOutputs) {
      sides_.try_emplace(tag, fmt::format("side output '{}'", tag), info, inputTypes);
    }
  }

  using Collector::side;
  OutputRows& main() override { return main_; }
  Result<OutputRows*> side(std::string_view tag) override {
    auto it = sides_.find(tag);
    if (it == sides_.end()) {
      std::string known;
      for (const auto& [name, rows] : sides_) known += (known.empty() ? "" : ", ") + name;
      return Status::invalidArgument(
          fmt::format("side output '{}' was not declared (declared: {})", tag, known.empty() ? "none" : known));
    }
    return static_cast<OutputRows*>(&it->second);
  }

  bool full() const {
    if (main_.pending() >= kFlushRows) return true;
    for (const auto& [tag, rows] : sides_) {
      if (rows.pending() >= kFlushRows) return true;
    }
    return false;
  }

  Status flush(Output& out) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<RecordBatch> batch, main_.take());
    if (batch) SLUICE_RETURN_NOT_OK(out.emit(std::move(*batch)));
    for (auto& [tag, rows] : sides_) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<RecordBatch> side, rows.take());
      if (side) SLUICE_RETURN_NOT_OK(out.emitSide(tag, std::move(*side)));
    }
    return Status::OK();
  }

 private:
  BufferedRows main_;
  std::map<std::string, BufferedRows, std::less<>> sides_;
};

}  // namespace

/// The per-subtask state of the operator; also the function's ProcessContext.
class KeyedProcessOperator::Runtime final : public ProcessContext {
 public:
  Runtime(const KeyedProcessPlan& plan, const OperatorContext& context)
      : plan_(plan),
        context_(context),
        backend_(*context.keyedStateBackend),
        inputTypes_(typesOf(*plan.input.schema)),
        collector_(plan, inputTypes_) {
    for (int i = 0; i < plan.input.schema->numFields(); ++i) allColumns_.push_back(i);
    std::vector<Field> keyFields;
    for (int column : plan.keyColumns) {
      keyFields.push_back(plan.input.schema->field(column));
      keyTypes_.push_back(plan.input.schema->field(column).type);
    }
    keySchema_ = Schema::make(std::move(keyFields)).valueOr(nullptr);
  }

  Status open() {
    if (keySchema_ == nullptr) return Status::internal("process node: invalid key fields");
    SLUICE_ASSIGN_OR_RETURN(timerState_, backend_.registerState(StateDescriptor{kTimerState, StateKind::kMap, {}}));
    Status decoded;
    SLUICE_RETURN_NOT_OK(backend_.scanAll(
        timerState_, [&](int keyGroup, std::string_view key, std::string_view userKey, std::string_view) {
          if (userKey.size() != 9 || (userKey[0] != 0 && userKey[0] != 1)) {
            decoded = Status::corruption(fmt::format("node '{}': malformed timer in keyed state", context_.nodeId));
            return false;
          }
          Timer timer{window::readInt64BigEndianOrdered(userKey.data() + 1), keyGroup, std::string(key)};
          (userKey[0] == 0 ? eventTimers_ : processingTimers_).insert(std::move(timer));
          return true;
        }));
    SLUICE_RETURN_NOT_OK(decoded);
    return guard("open", [&] {
      function_ = plan_.createFunction();
      if (function_ == nullptr) return Status::internal("the factory created no function");
      return function_->open(*this);
    });
  }

  Status processBatch(const RecordBatch& batch, Output& out) {
    SLUICE_RETURN_NOT_OK(fireDue(processingTimers_, TimeDomain::kProcessingTime, currentProcessingTime(), out));
    groupByKey(batch);
    for (const KeyRows& group : groups_) {
      keyContext_.setCurrentKey(group.key, group.keyGroup);
      SLUICE_RETURN_NOT_OK(
          guard("processKey", [&] { return function_->processKey(batch, group.rows, *this, collector_); }));
      if (collector_.full()) SLUICE_RETURN_NOT_OK(collector_.flush(out));
    }
    return collector_.flush(out);
  }

  Status processWatermark(int64_t timestamp, Output& out) {
    watermark_ = timestamp;
    SLUICE_RETURN_NOT_OK(fireDue(eventTimers_, TimeDomain::kEventTime, timestamp, out));
    SLUICE_RETURN_NOT_OK(fireDue(processingTimers_, TimeDomain::kProcessingTime, currentProcessingTime(), out));
    SLUICE_RETURN_NOT_OK(collector_.flush(out));
    return out.emitWatermark(timestamp);
  }

  Status close() {
    if (function_ == nullptr) return Status::OK();
    Status status = guard("close", [&] { return function_->close(); });
    function_.reset();
    return status;
  }

  // ProcessContext.
  const OperatorContext& operatorContext() const override { return context_; }
  const SchemaPtr& inputSchema() const override { return plan_.input.schema; }
  std::string_view currentKey() const override { return keyContext_.currentKey(); }

  RowView currentKeyRow() override {
    if (!keyRowValid_ || keyRowKey_ != keyContext_.currentKey()) {
      RecordBatchBuilder builder(keySchema_);
      std::vector<ColumnBuilder*> columns;
      for (int i = 0; i < keySchema_->numFields(); ++i) columns.push_back(&builder.column(i));
      std::string_view in = keyContext_.currentKey();
      Status decoded = window::decodeRow(in, keyTypes_, columns);
      SLUICE_CHECK(decoded.ok() && in.empty(), "a key serialized by this operator must decode");
      keyRow_ = builder.finish();
      keyRowKey_ = keyContext_.currentKey();
      keyRowValid_ = true;
    }
    return RowView(keyRow_, 0);
  }

  KeyedStateBackend& stateBackend() override { return backend_; }
  const KeyContext& keyContext() const override { return keyContext_; }
  int64_t currentWatermark() const override { return watermark_; }
  int64_t currentProcessingTime() const override {
    return context_.processingTime != nullptr ? context_.processingTime() : wallClockMillis();
  }

  Status registerEventTimeTimer(int64_t timestamp) override {
    return addTimer(eventTimers_, TimeDomain::kEventTime, timestamp);
  }
  Status deleteEventTimeTimer(int64_t timestamp) override {
    return removeTimer(eventTimers_, TimeDomain::kEventTime, timestamp);
  }
  Status registerProcessingTimeTimer(int64_t timestamp) override {
    return addTimer(processingTimers_, TimeDomain::kProcessingTime, timestamp);
  }
  Status deleteProcessingTimeTimer(int64_t timestamp) override {
    return removeTimer(processingTimers_, TimeDomain::kProcessingTime, timestamp);
  }

  std::string encodeRow(const RowView& row) const override {
    std::string bytes;
    window::encodeRow(row.batch(), row.index(), allColumns_, bytes);
    return bytes;
  }

 private:
  struct Timer {
    int64_t time = 0;
    int keyGroup = 0;
    std::string key;
    auto operator<=>(const Timer&) const = default;
  };
  struct KeyRows {
    int keyGroup = 0;
    std::string key;
    std::vector<int32_t> rows;
  };

  static std::string timerUserKey(TimeDomain domain, int64_t time) {
    std::string userKey(1, domain == TimeDomain::kEventTime ? '\0' : '\1');
    window::appendInt64BigEndianOrdered(userKey, time);
    return userKey;
  }

  Status addTimer(std::set<Timer>& timers, TimeDomain domain, int64_t time) {
    auto [it, inserted] = timers.insert(Timer{time, keyContext_.currentKeyGroup(), keyContext_.currentKey()});
    if (!inserted) return Status::OK();
    std::string userKey = timerUserKey(domain, time);
    return backend_.put(keyContext_.stateKey(timerState_, userKey), "");
  }

  Status removeTimer(std::set<Timer>& timers, TimeDomain domain, int64_t time) {
    if (timers.erase(Timer{time, keyContext_.currentKeyGroup(), keyContext_.currentKey()}) == 0) return Status::OK();
    std::string userKey = timerUserKey(domain, time);
    return backend_.remove(keyContext_.stateKey(timerState_, userKey));
  }

  /// Fires, in order, every timer of `timers` with time <= `upTo`, including
  /// ones the function registers while this runs.
  Status fireDue(std::set<Timer>& timers, TimeDomain domain, int64_t upTo, Output& out) {
    while (!timers.empty() && timers.begin()->time <= upTo) {
      Timer timer = std::move(timers.extract(timers.begin()).value());
      std::string userKey = timerUserKey(domain, timer.time);
      SLUICE_RETURN_NOT_OK(backend_.remove(StateKey{timerState_, timer.keyGroup, timer.key, userKey}));
      keyContext_.setCurrentKey(std::move(timer.key), timer.keyGroup);
      SLUICE_RETURN_NOT_OK(guard("onTimer", [&] { return function_->onTimer(timer.time, domain, *this, collector_); }));
      if (collector_.full()) SLUICE_RETURN_NOT_OK(collector_.flush(out));
    }
    return Status::OK();
  }

  /// Groups the batch's rows by key, in order of first appearance.
  void groupByKey(const RecordBatch& batch) {
    groups_.clear();
    indexByKey_.clear();
    std::vector<int> keyGroups = keyGroupsOf(batch, plan_.keyColumns, context_.maxParallelism);
    std::string key;
    for (int64_t row = 0; row < batch.numRows(); ++row) {
      key.clear();
      appendSerializedKey(batch, row, plan_.keyColumns, key);
      auto [it, inserted] = indexByKey_.try_emplace(key, groups_.size());
      if (inserted) groups_.push_back(KeyRows{keyGroups[row], key, {}});
      groups_[it->second].rows.push_back(static_cast<int32_t>(row));
    }
  }

  /// Runs user code: exceptions and errors come back naming the node and function.
  template <typename Call>
  Status guard(std::string_view what, Call&& call) {
    Status status;
    try {
      status = call();
    } catch (const std::exception& exception) {
      return Status::userCodeError(
          fmt::format("node '{}': {}: {} threw: {}", context_.nodeId, plan_.description, what, exception.what()));
    } catch (...) {
      return Status::userCodeError(
          fmt::format("node '{}': {}: {} threw a non-standard exception", context_.nodeId, plan_.description, what));
    }
    if (status.ok()) return status;
    return status.withContext(fmt::format("node '{}': {}", context_.nodeId, plan_.description));
  }

  const KeyedProcessPlan& plan_;
  const OperatorContext context_;
  KeyedStateBackend& backend_;
  std::vector<DataType> inputTypes_;
  std::vector<int> allColumns_;
  SchemaPtr keySchema_;
  std::vector<DataType> keyTypes_;
  BufferedCollector collector_;
  KeyContext keyContext_;
  std::unique_ptr<KeyedProcessFunction> function_;
  int timerState_ = -1;
  std::set<Timer> eventTimers_;
  std::set<Timer> processingTimers_;
  int64_t watermark_ = kMinWatermark;
  std::vector<KeyRows> groups_;
  std::unordered_map<std::string, size_t> indexByKey_;
  RecordBatch keyRow_;
  std::string keyRowKey_;
  bool keyRowValid_ = false;
};

KeyedProcessOperator::KeyedProcessOperator(std::shared_ptr<const KeyedProcessPlan> plan) : plan_(std::move(plan)) {}

KeyedProcessOperator::~KeyedProcessOperator() = default;

Status KeyedProcessOperator::open(const OperatorContext& context) {
  if (context.keyedStateBackend == nullptr) {
    return Status::invalidArgument("node '" + context.nodeId + "': a process node needs a keyed state backend");
  }
  runtime_ = std::make_unique<Runtime>(*plan_, context);
  return runtime_->open();
}

Status KeyedProcessOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  return runtime_->processBatch(batch, out);
}

Status KeyedProcessOperator::processWatermark(int64_t timestamp, Output& out) {
  return runtime_->processWatermark(timestamp, out);
}

Status KeyedProcessOperator::close() {
  if (runtime_ == nullptr) return Status::OK();
  Status status = runtime_->close();
  runtime_.reset();
  return status;
}

}  // namespace sluice
