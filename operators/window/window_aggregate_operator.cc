// WindowAggregateOperator: slices for tumbling/hopping windows, merging
// sessions, timers on the watermark, allowed lateness and the late side output.
#include "operators/window/window_aggregate_operator.h"

#include <algorithm>

#include "operators/window/row_codec.h"
#include "runtime/data/key_group.h"

namespace sluice::window {
namespace {

constexpr const char* kStateBlob = "window-state";
/// Results are emitted in batches of at most this many rows.
constexpr int64_t kMaxOutputRows = 4096;

std::string fieldList(const Schema& schema) {
  std::string names;
  for (const Field& field : schema.fields()) names += (names.empty() ? "" : ", ") + field.name;
  return names;
}

std::string trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string sliceUserKey(int64_t sliceStart) {
  std::string out;
  appendInt64BigEndianOrdered(out, sliceStart);
  return out;
}

}  // namespace

Result<std::pair<std::string, std::string>> parseAggregateCall(const std::string& text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      !trim(text.substr(close + 1)).empty()) {
    return Status::invalidArgument("'" + text + "' is not an aggregate call; expected name(argument), as sum(price)");
  }
  std::string name = trim(text.substr(0, open));
  std::string argument = trim(text.substr(open + 1, close - open - 1));
  if (name.empty()) return Status::invalidArgument("'" + text + "' has no aggregate name");
  if (argument == "*") argument.clear();
  return std::make_pair(name, argument);
}

Result<std::shared_ptr<const WindowAggregateProgram>> WindowAggregateProgram::compile(
    const SchemaPtr& input, int eventTimeIndex, const WindowAggregateOptions& options) {
  if (eventTimeIndex < 0) {
    return Status::invalidArgument("the input stream has no event time; declare event_time on its source or map");
  }
  const WindowSpec& window = options.window;
  if (window.isSession() ? window.gap <= 0 : (window.size <= 0 || window.slide <= 0)) {
    return Status::invalidArgument("window: sizes, slides and gaps must be positive");
  }
  if (options.allowedLateness < 0) return Status::invalidArgument("allowed_lateness must not be negative");

  auto program = std::make_shared<WindowAggregateProgram>();
  program->inputSchema_ = input;
  program->window_ = window;
  program->allowedLateness_ = options.allowedLateness;
  std::vector<Field> fields;
  for (const std::string& name : options.keyBy) {
    std::optional<int> index = input->indexOf(name);
    if (!index.has_value()) {
      return Status::invalidArgument("key_by: unknown field '" + name + "' (fields: " + fieldList(*input) + ")");
    }
    program->keyColumns_.push_back(*index);
    program->keyTypes_.push_back(input->field(*index).type);
    fields.push_back(input->field(*index));
  }
  for (const AggregateCall& call : options.aggregates) {
    auto parsed = parseAggregateCall(call.call);
    if (!parsed.ok()) return parsed.status().withContext("aggregate '" + call.name + "'");
    Aggregate aggregate;
    aggregate.name = call.name;
    std::optional<DataType> argumentType;
    if (!parsed->second.empty()) {
      auto expression = compileExpression(parsed->second, *input);
      if (!expression.ok()) return expression.status().withContext("aggregate '" + call.name + "'");
      aggregate.argument = *expression;
      argumentType = aggregate.argument->type();
    }
    auto function = AggregateRegistry::instance().create(parsed->first, argumentType);
    if (!function.ok()) return function.status().withContext("aggregate '" + call.name + "'");
    aggregate.function = *function;
    fields.push_back(Field{call.name, aggregate.function->resultType()});
    program->aggregates_.push_back(std::move(aggregate));
  }
  fields.push_back(Field{"window_start", DataType::kTimestamp});
  fields.push_back(Field{"window_end", DataType::kTimestamp});
  fields.push_back(Field{"window_time", DataType::kTimestamp});
  auto schema = Schema::make(std::move(fields));
  if (!schema.ok()) return schema.status().withContext("output fields (keys, aggregates, window bounds)");
  program->outputSchema_ = *schema;
  return std::shared_ptr<const WindowAggregateProgram>(std::move(program));
}

WindowAggregateOperator::WindowAggregateOperator(std::shared_ptr<const WindowAggregateProgram> program)
    : program_(std::move(program)) {}

Status WindowAggregateOperator::restoreState(const OperatorSnapshot& snapshot) {
  auto it = snapshot.blobs.find(kStateBlob);
  if (it != snapshot.blobs.end()) restoredBlob_ = it->second;
  return Status::OK();
}

Status WindowAggregateOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  if (program_->keyed()) {
    if (context.keyedStateBackend == nullptr) {
      return Status::invalidArgument("node '" + context.nodeId + "': a keyed window needs a keyed state backend");
    }
    store_ = makeBackendStateStore(context.keyedStateBackend);
  } else {
    auto memory = std::make_unique<MemoryStateStore>();
    memoryStore_ = memory.get();
    if (restoredBlob_.has_value()) SLUICE_RETURN_NOT_OK(memory->deserialize(*restoredBlob_));
    restoredBlob_.reset();
    store_ = std::move(memory);
  }
  if (program_->window().isSession()) {
    SLUICE_ASSIGN_OR_RETURN(windowState_, store_->registerState("window-sessions", StateKind::kValue));
  } else {
    SLUICE_ASSIGN_OR_RETURN(windowState_, store_->registerState("window-slices", StateKind::kMap));
  }
  SLUICE_RETURN_NOT_OK(timers_.open(store_.get(), "window-timers"));
  output_ = std::make_unique<RecordBatchBuilder>(program_->outputSchema(), program_->outputEventTimeIndex());
  keyBuilders_.clear();
  for (size_t i = 0; i < program_->keyColumns().size(); ++i) keyBuilders_.push_back(&output_->column(i));
  return Status::OK();
}

Status WindowAggregateOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  if (memoryStore_ != nullptr) snapshot.blobs[kStateBlob] = memoryStore_->serialize();
  return Status::OK();
}

int WindowAggregateOperator::keyGroupOfRow(int32_t row) const {
  return program_->keyed() ? keyGroupOf(hashes_[row], maxParallelism_) : 0;
}

Status WindowAggregateOperator::evaluateArguments(const RecordBatch& batch) {
  const auto& aggregates = program_->aggregates();
  arguments_.assign(aggregates.size(), nullptr);
  for (size_t i = 0; i < aggregates.size(); ++i) {
    const ExpressionPtr& argument = aggregates[i].argument;
    if (argument == nullptr) continue;
    if (argument->fieldIndex() >= 0) {
      arguments_[i] = batch.column(argument->fieldIndex());
    } else {
      auto column = argument->evaluate(batch);
      if (!column.ok()) return column.status().withContext("aggregate '" + aggregates[i].name + "'");
      arguments_[i] = *column;
    }
  }
  return Status::OK();
}

Status WindowAggregateOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  if (batch.numRows() == 0) return Status::OK();
  SLUICE_RETURN_NOT_OK(evaluateArguments(batch));
  if (program_->keyed()) hashes_ = hashKeys(batch, program_->keyColumns());
  std::vector<uint8_t> late(static_cast<size_t>(batch.numRows()), 0);
  std::set<WindowRef> refire;
  if (program_->window().isSession()) {
    SLUICE_RETURN_NOT_OK(processSessionBatch(batch, late, refire));
  } else {
    SLUICE_RETURN_NOT_OK(processSlicedBatch(batch, late, refire));
  }
  if (std::find(late.begin(), late.end(), 1) != late.end()) {
    SLUICE_RETURN_NOT_OK(out.emitSide(kLateTag, batch.filter(late)));
  }
  for (const auto& [keyGroup, key, end] : refire) {
    if (program_->window().isSession()) {
      SLUICE_RETURN_NOT_OK(emitSession(keyGroup, key, end));
    } else {
      SLUICE_RETURN_NOT_OK(emitSlicedWindow(keyGroup, key, end));
    }
  }
  return flushOutput(out);
}

Status WindowAggregateOperator::processSlicedBatch(const RecordBatch& batch, std::vector<uint8_t>& late,
                                                   std::set<WindowRef>& refire) {
  const WindowSpec& window = program_->window();
  const int64_t lateness = program_->allowedLateness();
  const int64_t* times = batch.eventTimes();
  const auto& aggregates = program_->aggregates();
  groups_.clear();
  for (int32_t row = 0; row < static_cast<int32_t>(batch.numRows()); ++row) {
    const int64_t time = times[row];
    const int64_t lastStart = window.lastWindowStart(time);
    if (time >= lastStart + window.size) continue;  // between the windows of a hop with slide > size
    if (saturatingAdd(lastStart + window.size - 1, lateness) <= watermark_) {
      late[row] = 1;
      continue;
    }
    scratch_.clear();
    encodeRow(batch, row, program_->keyColumns(), scratch_);
    appendInt64BigEndianOrdered(scratch_, window.sliceStart(time));
    groups_.add(scratch_, row);
  }
  groups_.finish();

  for (size_t group = 0; group < groups_.size(); ++group) {
    const std::string_view groupKey = groups_.key(group);
    const std::string_view key = groupKey.substr(0, groupKey.size() - 8);
    const std::string_view userKey = groupKey.substr(groupKey.size() - 8);
    const int64_t slice = readInt64BigEndianOrdered(userKey.data());
    const int keyGroup = keyGroupOfRow(groups_.firstRow(group));
    const StateKey stateKey{windowState_, keyGroup, key, userKey};
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> existing, store_->get(stateKey));
    if (existing.has_value()) {
      SLUICE_RETURN_NOT_OK(decodeAccumulators(*existing, aggregates.size(), accumulators_));
    } else {
      accumulators_.resize(aggregates.size());
      for (size_t i = 0; i < aggregates.size(); ++i) aggregates[i].function->createAccumulator(accumulators_[i]);
    }
    const std::span<const int32_t> rows = groups_.rows(group);
    for (size_t i = 0; i < aggregates.size(); ++i) {
      aggregates[i].function->add(accumulators_[i], AggregateInput{arguments_[i].get(), times}, rows);
    }
    SLUICE_RETURN_NOT_OK(store_->put(stateKey, encodeAccumulators(accumulators_)));
    if (!existing.has_value()) SLUICE_RETURN_NOT_OK(registerSliceTimers(keyGroup, key, slice));
    // Windows of this slice that already fired but are within the allowed lateness fire again.
    for (int64_t start = window.firstWindowStartOfSlice(slice); start <= window.lastWindowStart(slice);
         start += window.slide) {
      const int64_t end = start + window.size;
      if (end - 1 <= watermark_ && saturatingAdd(end - 1, lateness) > watermark_) {
        refire.emplace(keyGroup, std::string(key), end);
      }
    }
  }
  return Status::OK();
}

Status WindowAggregateOperator::registerSliceTimers(int keyGroup, std::string_view key, int64_t slice) {
  const WindowSpec& window = program_->window();
  const int64_t lastStart = window.lastWindowStart(slice);
  for (int64_t start = window.firstWindowStartOfSlice(slice); start <= lastStart; start += window.slide) {
    const int64_t end = start + window.size;
    if (end - 1 > watermark_) SLUICE_RETURN_NOT_OK(timers_.add(end - 1, TimerKind::kFire, keyGroup, key, end));
  }
  // The slice is dropped with the last window containing it (by its fire timer when there is no lateness).
  const int64_t lateness = program_->allowedLateness();
  if (lateness > 0) {
    const int64_t lastEnd = lastStart + window.size;
    const int64_t cleanup = saturatingAdd(lastEnd - 1, lateness);
    if (cleanup > watermark_) SLUICE_RETURN_NOT_OK(timers_.add(cleanup, TimerKind::kCleanup, keyGroup, key, lastEnd));
  }
  return Status::OK();
}

Status WindowAggregateOperator::emitSlicedWindow(int keyGroup, std::string_view key, int64_t end) {
  const WindowSpec& window = program_->window();
  const auto& aggregates = program_->aggregates();
  const int64_t start = end - window.size;
  const int64_t sliceSize = window.sliceSize();
  bool found = false;
  for (int64_t slice = start; slice < end; slice += sliceSize) {
    const std::string userKey = sliceUserKey(slice);
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            store_->get(StateKey{windowState_, keyGroup, key, userKey}));
    if (!value.has_value()) continue;
    if (!found) {
      SLUICE_RETURN_NOT_OK(decodeAccumulators(*value, aggregates.size(), accumulators_));
      found = true;
      continue;
    }
    SLUICE_RETURN_NOT_OK(decodeAccumulators(*value, aggregates.size(), otherAccumulators_));
    for (size_t i = 0; i < aggregates.size(); ++i) {
      aggregates[i].function->merge(accumulators_[i], otherAccumulators_[i]);
    }
  }
  if (!found) return Status::OK();
  return appendResult(key, accumulators_, start, end);
}

Status WindowAggregateOperator::cleanupSlicedWindow(int keyGroup, std::string_view key, int64_t end) {
  const WindowSpec& window = program_->window();
  const int64_t start = end - window.size;
  const int64_t exclusiveEnd = start + std::min(window.slide, window.size);
  for (int64_t slice = start; slice < exclusiveEnd; slice += window.sliceSize()) {
    SLUICE_RETURN_NOT_OK(store_->remove(StateKey{windowState_, keyGroup, key, sliceUserKey(slice)}));
  }
  return Status::OK();
}

Result<std::vector<WindowAggregateOperator::Session>> WindowAggregateOperator::loadSessions(int keyGroup,
                                                                                            std::string_view key) {
  std::vector<Session> sessions;
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> value, store_->get(StateKey{windowState_, keyGroup, key, {}}));
  if (!value.has_value()) return sessions;
  std::string_view in = *value;
  while (!in.empty()) {
    Session session;
    std::string_view accumulators;
    if (in.size() < 16) return Status::corruption("window state: truncated session");
    session.start = readInt64BigEndianOrdered(in.data());
    session.end = readInt64BigEndianOrdered(in.data() + 8);
    in.remove_prefix(16);
    if (!readLengthPrefixed(in, accumulators)) return Status::corruption("window state: truncated session");
    session.accumulators.assign(accumulators);
    sessions.push_back(std::move(session));
  }
  return sessions;
}

Status WindowAggregateOperator::storeSessions(int keyGroup, std::string_view key,
                                              const std::vector<Session>& sessions) {
  const StateKey stateKey{windowState_, keyGroup, key, {}};
  if (sessions.empty()) return store_->remove(stateKey);
  std::string out;
  for (const Session& session : sessions) {
    appendInt64BigEndianOrdered(out, session.start);
    appendInt64BigEndianOrdered(out, session.end);
    appendLengthPrefixed(out, session.accumulators);
  }
  return store_->put(stateKey, out);
}

Status WindowAggregateOperator::processSessionBatch(const RecordBatch& batch, std::vector<uint8_t>& late,
                                                    std::set<WindowRef>& refire) {
  const int64_t gap = program_->window().gap;
  const int64_t lateness = program_->allowedLateness();
  const int64_t* times = batch.eventTimes();
  const auto& aggregates = program_->aggregates();
  groups_.clear();
  for (int32_t row = 0; row < static_cast<int32_t>(batch.numRows()); ++row) {
    scratch_.clear();
    encodeRow(batch, row, program_->keyColumns(), scratch_);
    groups_.add(scratch_, row);
  }
  groups_.finish();

  std::vector<int32_t> rows;
  std::vector<std::string> combined;
  for (size_t group = 0; group < groups_.size(); ++group) {
    const std::string_view key = groups_.key(group);
    const int keyGroup = keyGroupOfRow(groups_.firstRow(group));
    SLUICE_ASSIGN_OR_RETURN(std::vector<Session> sessions, loadSessions(keyGroup, key));
    // Rows in event-time order (stable, so ties keep their arrival order), late ones dropped:
    // a row is late when its own window [t, t + gap) is past the lateness and it joins no open session.
    rows.clear();
    for (int32_t row : groups_.rows(group)) {
      const int64_t time = times[row];
      const bool joinsOpen = std::any_of(sessions.begin(), sessions.end(), [&](const Session& session) {
        return session.start <= time + gap && time <= session.end;
      });
      if (!joinsOpen && saturatingAdd(time + gap - 1, lateness) <= watermark_) {
        late[row] = 1;
      } else {
        rows.push_back(row);
      }
    }
    if (rows.empty()) continue;
    std::stable_sort(rows.begin(), rows.end(), [times](int32_t a, int32_t b) { return times[a] < times[b]; });

    size_t begin = 0;
    while (begin < rows.size()) {
      // One session of this batch's rows: a row joins it iff t <= its current end.
      int64_t start = times[rows[begin]];
      int64_t end = start + gap;
      size_t next = begin + 1;
      while (next < rows.size() && times[rows[next]] <= end) {
        end = std::max(end, times[rows[next]] + gap);
        ++next;
      }
      accumulators_.resize(aggregates.size());
      const std::span<const int32_t> sessionRows(rows.data() + begin, next - begin);
      for (size_t i = 0; i < aggregates.size(); ++i) {
        aggregates[i].function->createAccumulator(accumulators_[i]);
        aggregates[i].function->add(accumulators_[i], AggregateInput{arguments_[i].get(), times}, sessionRows);
      }
      begin = next;

      // Merge with every open session it overlaps or touches (sessions are sorted by start).
      Session merged{start, end, {}};
      bool haveCombined = false;
      std::vector<Session> kept;
      for (Session& session : sessions) {
        if (!(session.start <= end && start <= session.end)) {
          kept.push_back(std::move(session));
          continue;
        }
        merged.start = std::min(merged.start, session.start);
        merged.end = std::max(merged.end, session.end);
        if (!haveCombined) {
          SLUICE_RETURN_NOT_OK(decodeAccumulators(session.accumulators, aggregates.size(), combined));
          haveCombined = true;
        } else {
          SLUICE_RETURN_NOT_OK(decodeAccumulators(session.accumulators, aggregates.size(), otherAccumulators_));
          for (size_t i = 0; i < aggregates.size(); ++i) {
            aggregates[i].function->merge(combined[i], otherAccumulators_[i]);
          }
        }
        SLUICE_RETURN_NOT_OK(timers_.remove(session.end - 1, TimerKind::kFire, keyGroup, key, session.end));
        if (lateness > 0) {
          SLUICE_RETURN_NOT_OK(timers_.remove(saturatingAdd(session.end - 1, lateness), TimerKind::kCleanup, keyGroup,
                                              key, session.end));
        }
      }
      if (!haveCombined) {
        combined = accumulators_;
      } else {
        for (size_t i = 0; i < aggregates.size(); ++i) aggregates[i].function->merge(combined[i], accumulators_[i]);
      }
      merged.accumulators = encodeAccumulators(combined);
      if (merged.end - 1 > watermark_) {
        SLUICE_RETURN_NOT_OK(timers_.add(merged.end - 1, TimerKind::kFire, keyGroup, key, merged.end));
      } else {
        refire.emplace(keyGroup, std::string(key), merged.end);
      }
      if (lateness > 0) {
        SLUICE_RETURN_NOT_OK(
            timers_.add(saturatingAdd(merged.end - 1, lateness), TimerKind::kCleanup, keyGroup, key, merged.end));
      }
      auto position = std::lower_bound(kept.begin(), kept.end(), merged.start,
                                       [](const Session& session, int64_t value) { return session.start < value; });
      kept.insert(position, std::move(merged));
      sessions = std::move(kept);
    }
    SLUICE_RETURN_NOT_OK(storeSessions(keyGroup, key, sessions));
  }
  return Status::OK();
}

Status WindowAggregateOperator::emitSession(int keyGroup, std::string_view key, int64_t end) {
  return fireSession(keyGroup, key, end, /*emit=*/true, /*drop=*/false);
}

Status WindowAggregateOperator::fireSession(int keyGroup, std::string_view key, int64_t end, bool emit, bool drop) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Session> sessions, loadSessions(keyGroup, key));
  auto it = std::find_if(sessions.begin(), sessions.end(), [end](const Session& s) { return s.end == end; });
  if (it == sessions.end()) return Status::OK();
  if (emit) {
    SLUICE_RETURN_NOT_OK(decodeAccumulators(it->accumulators, program_->aggregates().size(), accumulators_));
    SLUICE_RETURN_NOT_OK(appendResult(key, accumulators_, it->start, it->end));
  }
  if (drop) {
    sessions.erase(it);
    SLUICE_RETURN_NOT_OK(storeSessions(keyGroup, key, sessions));
  }
  return Status::OK();
}

Status WindowAggregateOperator::appendResult(std::string_view key, const std::vector<std::string>& accumulators,
                                             int64_t start, int64_t end) {
  std::string_view in = key;
  SLUICE_RETURN_NOT_OK(decodeRow(in, program_->keyTypes(), keyBuilders_));
  const auto& aggregates = program_->aggregates();
  const int first = static_cast<int>(program_->keyColumns().size());
  for (size_t i = 0; i < aggregates.size(); ++i) {
    aggregates[i].function->getResult(accumulators[i], output_->column(first + static_cast<int>(i)));
  }
  const int bounds = first + static_cast<int>(aggregates.size());
  output_->column(bounds).appendInt64(start);
  output_->column(bounds + 1).appendInt64(end);
  output_->column(bounds + 2).appendInt64(end - 1);
  return Status::OK();
}

Status WindowAggregateOperator::flushOutput(Output& out) {
  if (output_->numRows() == 0) return Status::OK();
  return out.emit(output_->finish());
}

Status WindowAggregateOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  const bool session = program_->window().isSession();
  const bool dropOnFire = program_->allowedLateness() == 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<WindowTimer> timer, timers_.popDue(watermark_));
    if (!timer.has_value()) break;
    if (output_->numRows() >= kMaxOutputRows) SLUICE_RETURN_NOT_OK(flushOutput(out));
    const bool fire = timer->kind == TimerKind::kFire;
    if (session) {
      SLUICE_RETURN_NOT_OK(fireSession(timer->keyGroup, timer->key, timer->window, fire, !fire || dropOnFire));
      continue;
    }
    if (fire) SLUICE_RETURN_NOT_OK(emitSlicedWindow(timer->keyGroup, timer->key, timer->window));
    if (!fire || dropOnFire) SLUICE_RETURN_NOT_OK(cleanupSlicedWindow(timer->keyGroup, timer->key, timer->window));
  }
  SLUICE_RETURN_NOT_OK(flushOutput(out));
  return out.emitWatermark(timestamp);
}

}  // namespace sluice::window
