// WindowTopNOperator: per-(partition, window) candidate lists kept in state,
// trimmed to the top N on every batch and emitted when the window closes.
#include "operators/window/window_top_n_operator.h"

#include <algorithm>

#include "runtime/data/key_group.h"

namespace sluice::window {
namespace {

constexpr const char* kStateBlob = "window-state";
constexpr std::string_view kLateTag = "late";
/// Results are emitted in batches of at most about this many rows.
constexpr int64_t kMaxOutputRows = 4096;

std::string fieldList(const Schema& schema) {
  std::string names;
  for (const Field& field : schema.fields()) names += (names.empty() ? "" : ", ") + field.name;
  return names;
}

Result<int> findField(const Schema& schema, const std::string& option, const std::string& name) {
  std::optional<int> index = schema.indexOf(name);
  if (!index.has_value()) {
    return Status::invalidArgument(option + ": unknown field '" + name + "' (fields: " + fieldList(schema) + ")");
  }
  return *index;
}

}  // namespace

Result<std::shared_ptr<const WindowTopNProgram>> WindowTopNProgram::compile(const SchemaPtr& input, int eventTimeIndex,
                                                                            const WindowTopNOptions& options) {
  auto program = std::make_shared<WindowTopNProgram>();
  program->inputSchema_ = input;
  program->inputEventTimeIndex_ = eventTimeIndex;
  for (int i = 0; i < input->numFields(); ++i) {
    program->allColumns_.push_back(i);
    program->inputTypes_.push_back(input->field(i).type);
  }
  if (options.limit < 1) return Status::invalidArgument("limit must be at least 1");
  program->limit_ = options.limit;
  program->withTies_ = options.withTies;
  if (options.orderBy.empty()) return Status::invalidArgument("order_by: give at least one field, as 'price desc'");
  for (const auto& [name, descending] : options.orderBy) {
    SLUICE_ASSIGN_OR_RETURN(int column, findField(*input, "order_by", name));
    program->sortFields_.push_back(SortField{column, descending});
  }
  for (const std::string& name : options.partitionBy) {
    SLUICE_ASSIGN_OR_RETURN(int column, findField(*input, "partition_by", name));
    program->partitionColumns_.push_back(column);
  }
  program->hashColumns_ = program->partitionColumns_;

  if (options.window.has_value()) {
    const WindowSpec& window = *options.window;
    if (window.isSession()) return Status::invalidArgument("window: top-n assigns tumble or hop windows, not sessions");
    if (window.size <= 0 || window.slide <= 0) return Status::invalidArgument("window: sizes must be positive");
    if (eventTimeIndex < 0) {
      return Status::invalidArgument("the input stream has no event time; declare event_time on its source or map");
    }
    program->window_ = window;
    std::vector<Field> fields = input->fields();
    fields.push_back(Field{"window_start", DataType::kTimestamp});
    fields.push_back(Field{"window_end", DataType::kTimestamp});
    fields.push_back(Field{"window_time", DataType::kTimestamp});
    auto schema = Schema::make(std::move(fields));
    if (!schema.ok()) return schema.status().withContext("output fields (input fields and window bounds)");
    program->outputSchema_ = *schema;
    program->outputEventTimeIndex_ = program->outputSchema_->numFields() - 1;
  } else {
    std::optional<int> start = input->indexOf("window_start");
    std::optional<int> end = input->indexOf("window_end");
    if (!start.has_value() || !end.has_value() || !isInt64Like(input->field(*start).type) ||
        !isInt64Like(input->field(*end).type)) {
      return Status::invalidArgument(
          "the input has no timestamp columns window_start and window_end (the output of a window node); give "
          "'window:' to assign windows (fields: " +
          fieldList(*input) + ")");
    }
    program->windowStartColumn_ = *start;
    program->windowEndColumn_ = *end;
    // Each window is ranked on one subtask: partition by the window start.
    program->hashColumns_.push_back(*start);
    program->outputSchema_ = input;
    program->outputEventTimeIndex_ = eventTimeIndex;
  }
  return std::shared_ptr<const WindowTopNProgram>(std::move(program));
}

WindowTopNOperator::WindowTopNOperator(std::shared_ptr<const WindowTopNProgram> program)
    : program_(std::move(program)) {}

Status WindowTopNOperator::restoreState(const OperatorSnapshot& snapshot) {
  auto it = snapshot.blobs.find(kStateBlob);
  if (it != snapshot.blobs.end()) restoredBlob_ = it->second;
  return Status::OK();
}

Status WindowTopNOperator::open(const OperatorContext& context) {
  maxParallelism_ = context.maxParallelism;
  if (program_->keyed()) {
    if (context.keyedStateBackend == nullptr) {
      return Status::invalidArgument("node '" + context.nodeId + "': a keyed window_top_n needs a keyed state backend");
    }
    store_ = makeBackendStateStore(context.keyedStateBackend);
  } else {
    auto memory = std::make_unique<MemoryStateStore>();
    memoryStore_ = memory.get();
    if (restoredBlob_.has_value()) SLUICE_RETURN_NOT_OK(memory->deserialize(*restoredBlob_));
    restoredBlob_.reset();
    store_ = std::move(memory);
  }
  SLUICE_ASSIGN_OR_RETURN(candidatesState_, store_->registerState("top-n-candidates", StateKind::kValue));
  SLUICE_RETURN_NOT_OK(timers_.open(store_.get(), "window-timers"));
  output_ = std::make_unique<RecordBatchBuilder>(program_->outputSchema(), program_->outputEventTimeIndex());
  rowBuilders_.clear();
  for (size_t i = 0; i < program_->allColumns_.size(); ++i) rowBuilders_.push_back(&output_->column(i));
  return Status::OK();
}

Status WindowTopNOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  SLUICE_RETURN_NOT_OK(timers_.flush());
  if (memoryStore_ != nullptr) snapshot.blobs[kStateBlob] = memoryStore_->serialize();
  return Status::OK();
}

void WindowTopNOperator::selectTop(std::vector<Candidate>& candidates) {
  const size_t limit = static_cast<size_t>(program_->limit_);
  if (candidates.size() > limit) {
    // Keep what a stable sort then truncation would keep, in O(n): the limit-th smallest key is the
    // threshold; every smaller key stays, and equal ones all (with ties) or the earliest arrivals.
    thresholdKeys_.clear();
    for (const Candidate& candidate : candidates) thresholdKeys_.push_back(candidate.sortKey);
    std::nth_element(thresholdKeys_.begin(), thresholdKeys_.begin() + static_cast<std::ptrdiff_t>(limit - 1),
                     thresholdKeys_.end());
    const std::string_view threshold = thresholdKeys_[limit - 1];
    size_t smaller = 0;
    for (const Candidate& candidate : candidates) smaller += candidate.sortKey < threshold ? 1 : 0;
    size_t equalKept = 0;
    size_t kept = 0;
    for (const Candidate& candidate : candidates) {
      const int order = candidate.sortKey.compare(threshold);
      if (order > 0) continue;
      if (order == 0) {
        if (!program_->withTies_ && smaller + equalKept >= limit) continue;
        ++equalKept;
      }
      candidates[kept++] = candidate;
    }
    candidates.resize(kept);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.sortKey < b.sortKey; });
}

Status WindowTopNOperator::processBatch(int input, const RecordBatch& batch, Output& out) {
  (void)input;
  const int32_t numRows = static_cast<int32_t>(batch.numRows());
  if (numRows == 0) return Status::OK();
  const WindowTopNProgram& program = *program_;
  std::vector<uint64_t> hashes;
  if (program.keyed()) hashes = hashKeys(batch, program.hashColumns_);

  sortKeys_.clear();
  sortKeyOffsets_.resize(static_cast<size_t>(numRows) + 1);
  for (int32_t row = 0; row < numRows; ++row) {
    sortKeyOffsets_[row] = static_cast<uint32_t>(sortKeys_.size());
    appendSortKey(batch, row, program.sortFields_, sortKeys_);
  }
  sortKeyOffsets_[numRows] = static_cast<uint32_t>(sortKeys_.size());

  std::vector<uint8_t> late(static_cast<size_t>(numRows), 0);
  bool anyLate = false;
  groups_.clear();
  auto addToWindow = [&](int32_t row, int64_t start, int64_t end) {
    scratch_.clear();
    encodeRow(batch, row, program.partitionColumns_, scratch_);
    appendInt64BigEndianOrdered(scratch_, start);
    appendInt64BigEndianOrdered(scratch_, end);
    groups_.add(scratch_, row);
  };
  if (program.window_.has_value()) {
    const WindowSpec& window = *program.window_;
    const int64_t* times = batch.eventTimes();
    for (int32_t row = 0; row < numRows; ++row) {
      const int64_t time = times[row];
      bool inWindow = false;
      bool open = false;
      for (int64_t start = window.lastWindowStart(time); start > time - window.size; start -= window.slide) {
        inWindow = true;
        if (start + window.size - 1 <= watermark_) continue;
        open = true;
        addToWindow(row, start, start + window.size);
      }
      if (inWindow && !open) late[row] = anyLate = true;
    }
  } else {
    const Column& starts = *batch.column(program.windowStartColumn_);
    const Column& ends = *batch.column(program.windowEndColumn_);
    for (int32_t row = 0; row < numRows; ++row) {
      if (starts.isNull(row) || ends.isNull(row) || ends.int64s()[row] - 1 <= watermark_) {
        late[row] = anyLate = true;
        continue;
      }
      addToWindow(row, starts.int64s()[row], ends.int64s()[row]);
    }
  }
  groups_.finish();

  std::vector<Candidate> candidates;
  std::string encoded;
  for (size_t group = 0; group < groups_.size(); ++group) {
    const std::string_view groupKey = groups_.key(group);
    const int keyGroup = program.keyed() ? keyGroupOf(hashes[groups_.firstRow(group)], maxParallelism_) : 0;
    const StateKey stateKey{candidatesState_, keyGroup, groupKey, {}};
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> existing, store_->get(stateKey));
    candidates.clear();
    if (existing.has_value()) {
      std::string_view in = *existing;
      while (!in.empty()) {
        Candidate candidate;
        if (!readLengthPrefixed(in, candidate.sortKey) || !readLengthPrefixed(in, candidate.row)) {
          return Status::corruption("window top-n state: truncated candidate list");
        }
        candidates.push_back(candidate);
      }
    }
    const size_t stored = candidates.size();
    for (int32_t row : groups_.rows(group)) {
      std::string_view sortKey(sortKeys_.data() + sortKeyOffsets_[row],
                               sortKeyOffsets_[row + 1] - sortKeyOffsets_[row]);
      candidates.push_back(Candidate{sortKey, {}, row});
    }
    selectTop(candidates);
    const bool changed = candidates.size() != stored || std::any_of(candidates.begin(), candidates.end(),
                                                                    [](const Candidate& c) { return c.batchRow >= 0; });
    if (!changed) continue;
    encoded.clear();
    for (const Candidate& candidate : candidates) {
      appendLengthPrefixed(encoded, candidate.sortKey);
      if (candidate.batchRow >= 0) {
        scratch_.clear();
        encodeRow(batch, candidate.batchRow, program.allColumns_, scratch_);
        appendLengthPrefixed(encoded, scratch_);
      } else {
        appendLengthPrefixed(encoded, candidate.row);
      }
    }
    SLUICE_RETURN_NOT_OK(store_->put(stateKey, encoded));
    if (!existing.has_value()) {
      const int64_t end = readInt64BigEndianOrdered(groupKey.data() + groupKey.size() - 8);
      SLUICE_RETURN_NOT_OK(timers_.add(end - 1, TimerKind::kFire, keyGroup, groupKey, end));
    }
  }
  if (anyLate) SLUICE_RETURN_NOT_OK(out.emitSide(kLateTag, batch.filter(late)));
  return Status::OK();
}

Status WindowTopNOperator::fire(const WindowTimer& timer) {
  const StateKey stateKey{candidatesState_, timer.keyGroup, timer.key, {}};
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> value, store_->get(stateKey));
  if (!value.has_value()) return Status::OK();
  const int64_t start = readInt64BigEndianOrdered(timer.key.data() + timer.key.size() - 16);
  const int64_t end = timer.window;
  const int numInput = static_cast<int>(program_->allColumns_.size());
  std::string_view in = *value;
  while (!in.empty()) {
    std::string_view sortKey;
    std::string_view row;
    if (!readLengthPrefixed(in, sortKey) || !readLengthPrefixed(in, row)) {
      return Status::corruption("window top-n state: truncated candidate list");
    }
    SLUICE_RETURN_NOT_OK(decodeRow(row, program_->inputTypes_, rowBuilders_));
    if (program_->assignsWindows()) {
      output_->column(numInput).appendInt64(start);
      output_->column(numInput + 1).appendInt64(end);
      output_->column(numInput + 2).appendInt64(end - 1);
    }
  }
  return store_->remove(stateKey);
}

Status WindowTopNOperator::processWatermark(int64_t timestamp, Output& out) {
  watermark_ = std::max(watermark_, timestamp);
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<WindowTimer> timer, timers_.popDue(watermark_));
    if (!timer.has_value()) break;
    if (output_->numRows() >= kMaxOutputRows) SLUICE_RETURN_NOT_OK(out.emit(output_->finish()));
    SLUICE_RETURN_NOT_OK(fire(*timer));
  }
  if (output_->numRows() > 0) SLUICE_RETURN_NOT_OK(out.emit(output_->finish()));
  return out.emitWatermark(timestamp);
}

}  // namespace sluice::window
