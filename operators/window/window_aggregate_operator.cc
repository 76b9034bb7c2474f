// WindowAggregateOperator: slices for tumbling/hopping windows, merging
// sessions, timers on the watermark, allowed lateness and the late side output.
#include "operators/window/window_aggregate_operator.h"

#include <algorithm>
#include <map>

#include "operators/window/row_codec.h"
#include "runtime/data/key_group.h"

namespace sluice::window {
namespace {

constexpr const char* kStateBlob = "window-state";
/// Results are emitted in batches of at most this many rows.
constexpr int64_t kMaxOutputRows = 4096;
/// The evicted-key index is purged of dropped keys when it grows past twice its size after the last purge.
constexpr size_t kMinEvictedKeysPurgeSize = 4096;
/// Batched key-cache lookups prefetch a key's slot this many lookups ahead, its entry (once the slot
/// is cached) kEntryPrefetchDistance ahead and the entry's slices and accumulators (once the entry is
/// cached) kContentPrefetchDistance ahead, so the cache misses of several lookups overlap.
constexpr size_t kSlotPrefetchDistance = 16;
constexpr size_t kEntryPrefetchDistance = 8;
constexpr size_t kContentPrefetchDistance = 4;

void prefetchRange(const void* begin, size_t bytes) {
  const char* first = static_cast<const char*>(begin);
  for (size_t offset = 0; offset < bytes; offset += 64) prefetchForRead(first + offset);
  if (bytes > 0) prefetchForRead(first + bytes - 1);
}

/// Prefetches for the lookup `index` lookups from now (of `count`; `hashAt(i)` is lookup i's hash) in `keys`.
template <typename Map, typename HashAt>
void prefetchLookups(const Map& keys, size_t index, size_t count, HashAt&& hashAt) {
  if (index + kSlotPrefetchDistance < count) keys.prefetchSlot(hashAt(index + kSlotPrefetchDistance));
  if (index + kEntryPrefetchDistance < count) {
    if (const auto* entry = keys.candidate(hashAt(index + kEntryPrefetchDistance))) {
      prefetchRange(entry, sizeof(*entry));
    }
  }
  if (index + kContentPrefetchDistance < count) {
    if (const auto* entry = keys.candidate(hashAt(index + kContentPrefetchDistance))) {
      const auto& value = entry->value;
      prefetchRange(value.slices.data(), value.slices.size() * sizeof(value.slices[0]));
      prefetchRange(value.accumulators.data(), value.accumulators.size() * sizeof(value.accumulators[0]));
    }
  }
}

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

WindowAggregateOperator::WindowAggregateOperator(std::shared_ptr<const WindowAggregateProgram> program,
                                                 size_t cacheCapacity)
    : program_(std::move(program)), cacheCapacity_(std::max<size_t>(cacheCapacity, 1)) {}

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
  ownedKeyGroups_ = program_->keyed() ? context.keyedStateBackend->keyGroups() : KeyGroupRange{0, 0};
  const WindowSpec& window = program_->window();
  if (window.isSession()) {
    SLUICE_ASSIGN_OR_RETURN(windowState_, store_->registerState("window-sessions", StateKind::kValue));
  } else {
    SLUICE_ASSIGN_OR_RETURN(windowState_, store_->registerState("window-slices", StateKind::kMap));
  }
  SLUICE_ASSIGN_OR_RETURN(progressState_, store_->registerState("window-progress", StateKind::kValue));
  // Restored state is in the store, not in the caches. Timers are not persisted: they follow from the
  // stored slices or sessions and how far each key group had fired (restoreTimers). Timers a checkpoint
  // of the older layout holds are loaded (and removed from the store) instead; there, every stored entry
  // has a pending timer, so the timers tell which slices, and until when sessions, may be stored.
  keys_.clear();
  evictionCursor_ = 0;
  dirtyKeys_.clear();
  cachedSlices_ = 0;
  sessions_.clear();
  sessionEvictionCursor_ = 0;
  storedSlices_.clear();
  evictedKeys_.clear();
  storedSessionsUntil_ = kMinWatermark;
  if (window.isSession()) {
    SLUICE_RETURN_NOT_OK(timers_.open(store_.get(), "window-timers", /*persist=*/false));
    timers_.forEach(
        [&](const WindowTimer& timer) { storedSessionsUntil_ = std::max(storedSessionsUntil_, timer.time); });
  } else {
    SLUICE_RETURN_NOT_OK(sliceTimers_.open(store_.get(), "window-timers", /*persist=*/false));
    sliceTimers_.forEachWindow([&](int64_t, TimerKind, int64_t end) {
      for (int64_t slice = end - window.size; slice < end; slice += window.sliceSize()) storedSlices_.insert(slice);
    });
  }
  SLUICE_RETURN_NOT_OK(restoreTimers());
  restoredSlicesUntil_ = storedSlices_.empty() ? kMinWatermark : sliceDropTime(*storedSlices_.rbegin());
  output_ = std::make_unique<RecordBatchBuilder>(program_->outputSchema(), program_->outputEventTimeIndex());
  keyBuilders_.clear();
  for (size_t i = 0; i < program_->keyColumns().size(); ++i) keyBuilders_.push_back(&output_->column(i));
  return Status::OK();
}

Status WindowAggregateOperator::snapshotState(int64_t checkpointId, OperatorSnapshot& snapshot) {
  (void)checkpointId;
  SLUICE_RETURN_NOT_OK(flushToStore());
  if (memoryStore_ != nullptr) snapshot.blobs[kStateBlob] = memoryStore_->serialize();
  return Status::OK();
}

Status WindowAggregateOperator::restoreTimers() {
  std::map<int, int64_t> firedUntil;  // key group → watermark its timers had fired up to
  bool malformed = false;
  SLUICE_RETURN_NOT_OK(
      store_->scanAll(progressState_, [&](int keyGroup, std::string_view, std::string_view, std::string_view value) {
        if (value.size() != 8) {
          malformed = true;
          return false;
        }
        firedUntil[keyGroup] = readInt64BigEndianOrdered(value.data());
        return true;
      }));
  if (malformed) return Status::corruption("window state: malformed entry in 'window-progress'");
  if (firedUntil.empty()) return Status::OK();
  const WindowSpec& window = program_->window();
  const int64_t lateness = program_->allowedLateness();
  Status failure;
  // The timers pending at the checkpoint, as the operator added them: the fire timer of every window
  // (slices: every window of a stored slice) not yet fired, and with lateness its cleanup timer.
  SLUICE_RETURN_NOT_OK(store_->scanAll(
      windowState_, [&](int keyGroup, std::string_view key, std::string_view userKey, std::string_view value) {
        auto progress = firedUntil.find(keyGroup);
        if (window.isSession()) {
          std::string_view in = value;
          while (!in.empty()) {
            std::string_view accumulators;
            if (in.size() < 16) {
              failure = Status::corruption("window state: truncated session");
              return false;
            }
            const int64_t end = readInt64BigEndianOrdered(in.data() + 8);
            in.remove_prefix(16);
            if (!readLengthPrefixed(in, accumulators)) {
              failure = Status::corruption("window state: truncated session");
              return false;
            }
            const int64_t cleanup = saturatingAdd(end - 1, lateness);
            storedSessionsUntil_ = std::max(storedSessionsUntil_, cleanup);
            if (progress == firedUntil.end()) continue;  // older layout: its timers were loaded
            if (end - 1 > progress->second) failure = timers_.add(end - 1, TimerKind::kFire, keyGroup, key, end);
            if (failure.ok() && lateness > 0 && cleanup > progress->second) {
              failure = timers_.add(cleanup, TimerKind::kCleanup, keyGroup, key, end);
            }
            if (!failure.ok()) return false;
          }
          return true;
        }
        if (userKey.size() != 8) {
          failure = Status::corruption("window state: malformed slice entry in 'window-slices'");
          return false;
        }
        const int64_t slice = readInt64BigEndianOrdered(userKey.data());
        storedSlices_.insert(slice);
        if (progress == firedUntil.end()) return true;  // older layout: its timers were loaded
        const int64_t fired = progress->second;
        const int64_t lastStart = window.lastWindowStart(slice);
        for (int64_t start = window.firstWindowStartOfSlice(slice); start <= lastStart; start += window.slide) {
          const int64_t end = start + window.size;
          if (end - 1 > fired) sliceTimers_.add(end - 1, TimerKind::kFire, end, keyGroup, key);
        }
        if (lateness > 0) {
          const int64_t lastEnd = lastStart + window.size;
          const int64_t cleanup = saturatingAdd(lastEnd - 1, lateness);
          if (cleanup > fired) sliceTimers_.add(cleanup, TimerKind::kCleanup, lastEnd, keyGroup, key);
        }
        return true;
      }));
  return failure;
}

Status WindowAggregateOperator::writeSlices(std::string_view key, KeyEntry& entry) {
  const size_t numAggregates = program_->aggregates().size();
  std::string userKey;
  for (size_t i = 0; i < entry.slices.size(); ++i) {
    SliceState& slice = entry.slices[i];
    if (!slice.dirty) continue;
    accumulators_.assign(entry.accumulators.begin() + static_cast<std::ptrdiff_t>(i * numAggregates),
                         entry.accumulators.begin() + static_cast<std::ptrdiff_t>((i + 1) * numAggregates));
    userKey.clear();
    appendInt64BigEndianOrdered(userKey, slice.start);
    SLUICE_RETURN_NOT_OK(
        store_->put(StateKey{windowState_, entry.keyGroup, key, userKey}, encodeAccumulators(accumulators_)));
    slice.dirty = false;
    slice.persisted = true;
  }
  return Status::OK();
}

void WindowAggregateOperator::markDirty(KeyEntry& entry) {
  if (entry.dirtySlot != KeyEntry::kClean) return;
  entry.dirtySlot = dirtyKeys_.size();
  dirtyKeys_.push_back(&entry);
}

void WindowAggregateOperator::forgetDirty(KeyEntry& entry) {
  if (entry.dirtySlot == KeyEntry::kClean) return;
  dirtyKeys_[entry.dirtySlot] = nullptr;
  entry.dirtySlot = KeyEntry::kClean;
}

Status WindowAggregateOperator::flushToStore() {
  for (KeyEntry* entry : dirtyKeys_) {
    if (entry == nullptr) continue;
    SLUICE_RETURN_NOT_OK(writeSlices(*entry->key, *entry));
    entry->dirtySlot = KeyEntry::kClean;
  }
  dirtyKeys_.clear();
  for (size_t number = 0; number < sessions_.storageSize(); ++number) {
    SessionCache::Entry* cached = sessions_.entryAt(number);
    if (cached == nullptr || !cached->value.dirty) continue;
    SessionEntry& entry = cached->value;
    SLUICE_RETURN_NOT_OK(storeSessions(entry.keyGroup, cached->key, entry.sessions));
    entry.dirty = false;
    entry.persisted = true;
  }
  // How far timers have fired, per owned key group: with the slices or sessions it determines the
  // pending timers (restoreTimers).
  std::string value;
  appendInt64BigEndianOrdered(value, firedUntil_);
  for (int keyGroup = ownedKeyGroups_.first; keyGroup <= ownedKeyGroups_.last; ++keyGroup) {
    SLUICE_RETURN_NOT_OK(store_->put(StateKey{progressState_, keyGroup, {}, {}}, value));
  }
  return Status::OK();
}

Status WindowAggregateOperator::evictIfFull() {
  if (cachedSlices_ > cacheCapacity_) {
    // Evict whole keys until about half remains, in entry order from where the last eviction stopped
    // (roughly oldest first, and no recency bookkeeping on the hot path).
    const size_t target = cacheCapacity_ / 2;
    const size_t storageSize = keys_.storageSize();
    for (size_t visited = 0; visited < storageSize && cachedSlices_ > target; ++visited) {
      if (evictionCursor_ >= storageSize) evictionCursor_ = 0;
      KeyCache::Entry* cached = keys_.entryAt(evictionCursor_++);
      if (cached == nullptr) continue;
      KeyEntry& entry = cached->value;
      SLUICE_RETURN_NOT_OK(writeSlices(cached->key, entry));
      int64_t dropTime = kMinWatermark;
      for (const SliceState& slice : entry.slices) {
        storedSlices_.insert(slice.start);
        dropTime = std::max(dropTime, sliceDropTime(slice.start));
      }
      int64_t& evictedUntil = evictedKeys_.try_emplace(cached->key, kMinWatermark).first->second;
      evictedUntil = std::max(evictedUntil, dropTime);
      cachedSlices_ -= entry.slices.size();
      forgetDirty(entry);
      keys_.erase(cached);
    }
  }
  if (sessions_.size() > cacheCapacity_) {
    const size_t target = cacheCapacity_ / 2;
    const int64_t lateness = program_->allowedLateness();
    const size_t storageSize = sessions_.storageSize();
    for (size_t visited = 0; visited < storageSize && sessions_.size() > target; ++visited) {
      if (sessionEvictionCursor_ >= storageSize) sessionEvictionCursor_ = 0;
      SessionCache::Entry* cached = sessions_.entryAt(sessionEvictionCursor_++);
      if (cached == nullptr) continue;
      SessionEntry& entry = cached->value;
      if (entry.dirty) SLUICE_RETURN_NOT_OK(storeSessions(entry.keyGroup, cached->key, entry.sessions));
      for (const Session& session : entry.sessions) {
        storedSessionsUntil_ = std::max(storedSessionsUntil_, saturatingAdd(session.end - 1, lateness));
      }
      sessions_.erase(cached);
    }
  }
  return Status::OK();
}

int64_t WindowAggregateOperator::sliceDropTime(int64_t slice) const {
  const WindowSpec& window = program_->window();
  return saturatingAdd(window.lastWindowStart(slice) + window.size - 1, program_->allowedLateness());
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
  SLUICE_RETURN_NOT_OK(evictIfFull());
  return flushOutput(out);
}

Result<WindowAggregateOperator::KeyCache::Entry*> WindowAggregateOperator::findKey(int keyGroup, std::string_view key,
                                                                                   uint64_t hash, bool create) {
  if (KeyCache::Entry* cached = keys_.find(key, hash)) return cached;
  KeyEntry loaded;
  loaded.keyGroup = keyGroup;
  // Only restored keys (any key, until the restored slices are dropped) and evicted ones may be stored.
  bool mayBeStored = firedUntil_ < restoredSlicesUntil_;
  if (!evictedKeys_.empty()) {
    auto evicted = evictedKeys_.find(key);
    if (evicted != evictedKeys_.end()) {
      mayBeStored = mayBeStored || evicted->second > firedUntil_;
      evictedKeys_.erase(evicted);  // loaded now: the cache holds all its slices
    }
  }
  if (mayBeStored && !storedSlices_.empty()) {
    // The key was evicted or restored: load its slices the store holds (one scan), except any whose
    // windows have all been dropped already.
    const size_t numAggregates = program_->aggregates().size();
    Status failure;
    SLUICE_RETURN_NOT_OK(store_->scanMap(
        StateKey{windowState_, keyGroup, key, {}}, [&](std::string_view sliceKey, std::string_view stored) {
          if (sliceKey.size() != 8) {
            failure = Status::corruption("window state: malformed slice entry in 'window-slices'");
            return false;
          }
          const int64_t start = readInt64BigEndianOrdered(sliceKey.data());
          if (sliceDropTime(start) <= firedUntil_) return true;
          failure = decodeAccumulators(stored, numAggregates, otherAccumulators_);
          if (!failure.ok()) return false;
          loaded.slices.push_back(SliceState{start, false, true});
          for (std::string& accumulator : otherAccumulators_) loaded.accumulators.push_back(std::move(accumulator));
          return true;
        }));
    SLUICE_RETURN_NOT_OK(failure);
  }
  if (loaded.slices.empty() && !create) return nullptr;
  cachedSlices_ += loaded.slices.size();
  KeyCache::Entry* cached = keys_.tryEmplace(key, hash).first;
  cached->value = std::move(loaded);
  cached->value.key = &cached->key;
  return cached;
}

size_t WindowAggregateOperator::findOrAddSlice(KeyEntry& entry, int64_t start, bool& created) {
  // Slices mostly arrive in time order: search from the back.
  size_t index = entry.slices.size();
  while (index > 0 && entry.slices[index - 1].start > start) --index;
  if (index > 0 && entry.slices[index - 1].start == start) {
    created = false;
    return index - 1;
  }
  created = true;
  const auto& aggregates = program_->aggregates();
  entry.slices.insert(entry.slices.begin() + static_cast<std::ptrdiff_t>(index), SliceState{start, false, false});
  const auto position = entry.accumulators.begin() + static_cast<std::ptrdiff_t>(index * aggregates.size());
  auto inserted = entry.accumulators.insert(position, aggregates.size(), std::string());
  for (size_t i = 0; i < aggregates.size(); ++i) aggregates[i].function->createAccumulator(inserted[i]);
  ++cachedSlices_;
  return index;
}

Status WindowAggregateOperator::processSlicedBatch(const RecordBatch& batch, std::vector<uint8_t>& late,
                                                   std::set<WindowRef>& refire) {
  const WindowSpec& window = program_->window();
  const int64_t lateness = program_->allowedLateness();
  const int64_t* times = batch.eventTimes();
  const auto& aggregates = program_->aggregates();
  const size_t numAggregates = aggregates.size();
  const int32_t numRows = static_cast<int32_t>(batch.numRows());
  rowSlices_.resize(static_cast<size_t>(numRows));
  groups_.clear();
  for (int32_t row = 0; row < numRows; ++row) {
    const int64_t time = times[row];
    const int64_t lastStart = window.lastWindowStart(time);
    if (time >= lastStart + window.size) continue;  // between the windows of a hop with slide > size
    if (saturatingAdd(lastStart + window.size - 1, lateness) <= watermark_) {
      late[row] = 1;
      continue;
    }
    rowSlices_[row] = window.sliceStart(time);
    scratch_.clear();
    encodeRow(batch, row, program_->keyColumns(), scratch_);
    groups_.add(scratch_, row);
  }
  groups_.finish();

  const size_t numGroups = groups_.size();
  const auto groupHash = [this](size_t group) { return groups_.hash(group); };
  for (size_t group = 0; group < std::min(numGroups, kSlotPrefetchDistance); ++group) {
    keys_.prefetchSlot(groups_.hash(group));
  }
  for (size_t group = 0; group < numGroups; ++group) {
    prefetchLookups(keys_, group, numGroups, groupHash);
    const std::string_view key = groups_.key(group);
    const int keyGroup = keyGroupOfRow(groups_.firstRow(group));
    SLUICE_ASSIGN_OR_RETURN(KeyCache::Entry * cached, findKey(keyGroup, key, groups_.hash(group), /*create=*/true));
    KeyEntry* entry = &cached->value;
    std::span<const int32_t> rows = groups_.rows(group);
    const int64_t firstSlice = rowSlices_[rows.front()];
    const bool oneSlice =
        std::all_of(rows.begin(), rows.end(), [&](int32_t row) { return rowSlices_[row] == firstSlice; });
    if (!oneSlice) {
      // Split by slice, keeping arrival order within each slice.
      sortedRows_.assign(rows.begin(), rows.end());
      std::stable_sort(sortedRows_.begin(), sortedRows_.end(),
                       [&](int32_t a, int32_t b) { return rowSlices_[a] < rowSlices_[b]; });
      rows = sortedRows_;
    }
    for (size_t begin = 0; begin < rows.size();) {
      const int64_t slice = rowSlices_[rows[begin]];
      size_t next = begin + 1;
      while (next < rows.size() && rowSlices_[rows[next]] == slice) ++next;
      const std::span<const int32_t> sliceRows = rows.subspan(begin, next - begin);
      begin = next;

      bool created = false;
      const size_t index = findOrAddSlice(*entry, slice, created);
      std::string* accumulators = entry->accumulators.data() + index * numAggregates;
      for (size_t i = 0; i < numAggregates; ++i) {
        aggregates[i].function->add(accumulators[i], AggregateInput{arguments_[i].get(), times}, sliceRows);
      }
      entry->slices[index].dirty = true;
      markDirty(*entry);
      if (created) registerSliceTimers(*entry, index, key);
      // Windows of this slice that already fired but are within the allowed lateness fire again.
      if (lateness > 0) {
        for (int64_t start = window.firstWindowStartOfSlice(slice); start <= window.lastWindowStart(slice);
             start += window.slide) {
          const int64_t end = start + window.size;
          if (end - 1 <= watermark_ && saturatingAdd(end - 1, lateness) > watermark_) {
            refire.emplace(keyGroup, std::string(key), end);
          }
        }
      }
    }
  }
  return Status::OK();
}

void WindowAggregateOperator::registerSliceTimers(const KeyEntry& entry, size_t index, std::string_view key) {
  const WindowSpec& window = program_->window();
  const int64_t slice = entry.slices[index].start;
  const int64_t lastStart = window.lastWindowStart(slice);
  for (int64_t start = window.firstWindowStartOfSlice(slice); start <= lastStart; start += window.slide) {
    const int64_t end = start + window.size;
    if (end - 1 <= watermark_) continue;
    // Another slice of the key in this window registered its (still pending) timer when it was created.
    bool registered = false;
    for (size_t other = 0; other < entry.slices.size() && !registered; ++other) {
      registered = other != index && entry.slices[other].start >= start && entry.slices[other].start < end;
    }
    if (!registered) sliceTimers_.add(end - 1, TimerKind::kFire, end, entry.keyGroup, key);
  }
  // The slice is dropped with the last window containing it (by its fire timer when there is no lateness).
  const int64_t lateness = program_->allowedLateness();
  if (lateness > 0) {
    const int64_t lastEnd = lastStart + window.size;
    const int64_t cleanup = saturatingAdd(lastEnd - 1, lateness);
    if (cleanup > watermark_) sliceTimers_.add(cleanup, TimerKind::kCleanup, lastEnd, entry.keyGroup, key);
  }
}

Status WindowAggregateOperator::emitSlicedWindow(int keyGroup, std::string_view key, int64_t end) {
  SLUICE_ASSIGN_OR_RETURN(KeyCache::Entry * cached, findKey(keyGroup, key, KeyCache::hashOf(key), /*create=*/false));
  if (cached == nullptr) return Status::OK();
  return emitSlicedWindow(cached->value, key, end);
}

Status WindowAggregateOperator::emitSlicedWindow(const KeyEntry& entry, std::string_view key, int64_t end) {
  const auto& aggregates = program_->aggregates();
  const size_t numAggregates = aggregates.size();
  const int64_t start = end - program_->window().size;
  bool found = false;
  for (size_t index = 0; index < entry.slices.size(); ++index) {
    const int64_t slice = entry.slices[index].start;
    if (slice < start) continue;
    if (slice >= end) break;
    const auto first = entry.accumulators.begin() + static_cast<std::ptrdiff_t>(index * numAggregates);
    if (!found) {
      accumulators_.assign(first, first + static_cast<std::ptrdiff_t>(numAggregates));
      found = true;
      continue;
    }
    for (size_t i = 0; i < numAggregates; ++i) aggregates[i].function->merge(accumulators_[i], first[i]);
  }
  if (!found) return Status::OK();
  return appendResult(key, accumulators_, start, end);
}

Status WindowAggregateOperator::cleanupSlicedWindow(KeyCache::Entry* cached, int64_t end) {
  const WindowSpec& window = program_->window();
  const size_t numAggregates = program_->aggregates().size();
  const int64_t start = end - window.size;
  const int64_t exclusiveEnd = start + std::min(window.slide, window.size);
  KeyEntry& entry = cached->value;
  const std::string_view key = cached->key;
  // Slices before `start` belong to no pending window either (they were dropped by earlier timers).
  size_t erase = 0;
  std::string userKey;
  while (erase < entry.slices.size() && entry.slices[erase].start < exclusiveEnd) {
    const SliceState& slice = entry.slices[erase];
    if (slice.persisted) {
      userKey.clear();
      appendInt64BigEndianOrdered(userKey, slice.start);
      SLUICE_RETURN_NOT_OK(store_->remove(StateKey{windowState_, entry.keyGroup, key, userKey}));
    }
    ++erase;
  }
  if (erase == 0) return Status::OK();
  cachedSlices_ -= erase;
  if (erase == entry.slices.size()) {
    forgetDirty(entry);
    keys_.erase(cached);
    return Status::OK();
  }
  entry.slices.erase(entry.slices.begin(), entry.slices.begin() + static_cast<std::ptrdiff_t>(erase));
  entry.accumulators.erase(entry.accumulators.begin(),
                           entry.accumulators.begin() + static_cast<std::ptrdiff_t>(erase * numAggregates));
  return Status::OK();
}

Result<WindowAggregateOperator::SessionEntry*> WindowAggregateOperator::findSessions(int keyGroup,
                                                                                     std::string_view key) {
  if (SessionCache::Entry* cached = sessions_.find(key)) return &cached->value;
  if (firedUntil_ >= storedSessionsUntil_) return nullptr;
  SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> value, store_->get(StateKey{windowState_, keyGroup, key, {}}));
  if (!value.has_value()) return nullptr;
  SessionEntry entry;
  entry.keyGroup = keyGroup;
  entry.persisted = true;
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
    entry.sessions.push_back(std::move(session));
  }
  SessionEntry& cached = sessions_.tryEmplace(key).first->value;
  cached = std::move(entry);
  return &cached;
}

Status WindowAggregateOperator::replaceSessions(int keyGroup, std::string_view key, SessionEntry* entry,
                                                std::vector<Session> sessions) {
  if (sessions.empty()) {
    if (entry == nullptr) return Status::OK();
    const bool persisted = entry->persisted;
    sessions_.erase(key);
    return persisted ? store_->remove(StateKey{windowState_, keyGroup, key, {}}) : Status::OK();
  }
  if (entry == nullptr) {
    entry = &sessions_.tryEmplace(key).first->value;
    entry->keyGroup = keyGroup;
  }
  entry->sessions = std::move(sessions);
  entry->dirty = true;
  return Status::OK();
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
  std::vector<Session> kept;
  const std::vector<Session> noSessions;
  for (size_t group = 0; group < groups_.size(); ++group) {
    const std::string_view key = groups_.key(group);
    const int keyGroup = keyGroupOfRow(groups_.firstRow(group));
    SLUICE_ASSIGN_OR_RETURN(SessionEntry * entry, findSessions(keyGroup, key));
    const std::vector<Session>& open = entry != nullptr ? entry->sessions : noSessions;
    // Rows in event-time order (stable, so ties keep their arrival order), late ones dropped:
    // a row is late when its own window [t, t + gap) is past the lateness and it joins no open session.
    rows.clear();
    for (int32_t row : groups_.rows(group)) {
      const int64_t time = times[row];
      const bool joinsOpen = std::any_of(open.begin(), open.end(), [&](const Session& session) {
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
    std::vector<Session> sessions = entry != nullptr ? std::move(entry->sessions) : std::vector<Session>();

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
      kept.clear();
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
      sessions.swap(kept);
    }
    SLUICE_RETURN_NOT_OK(replaceSessions(keyGroup, key, entry, std::move(sessions)));
  }
  return Status::OK();
}

Status WindowAggregateOperator::emitSession(int keyGroup, std::string_view key, int64_t end) {
  return fireSession(keyGroup, key, end, /*emit=*/true, /*drop=*/false);
}

Status WindowAggregateOperator::fireSession(int keyGroup, std::string_view key, int64_t end, bool emit, bool drop) {
  SLUICE_ASSIGN_OR_RETURN(SessionEntry * entry, findSessions(keyGroup, key));
  if (entry == nullptr) return Status::OK();
  auto it =
      std::find_if(entry->sessions.begin(), entry->sessions.end(), [end](const Session& s) { return s.end == end; });
  if (it == entry->sessions.end()) return Status::OK();
  if (emit) {
    SLUICE_RETURN_NOT_OK(decodeAccumulators(it->accumulators, program_->aggregates().size(), accumulators_));
    SLUICE_RETURN_NOT_OK(appendResult(key, accumulators_, it->start, it->end));
  }
  if (drop) {
    if (entry->sessions.size() == 1) return replaceSessions(keyGroup, key, entry, {});
    entry->sessions.erase(it);
    entry->dirty = true;
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
  const bool dropOnFire = program_->allowedLateness() == 0;
  if (program_->window().isSession()) {
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<WindowTimer> timer, timers_.popDue(watermark_));
      if (!timer.has_value()) break;
      if (output_->numRows() >= kMaxOutputRows) SLUICE_RETURN_NOT_OK(flushOutput(out));
      const bool fire = timer->kind == TimerKind::kFire;
      SLUICE_RETURN_NOT_OK(fireSession(timer->keyGroup, timer->key, timer->window, fire, !fire || dropOnFire));
    }
  } else {
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool due, sliceTimers_.popDue(watermark_, dueTimers_));
      if (!due) break;
      const bool fire = dueTimers_.kind == TimerKind::kFire;
      const int64_t end = dueTimers_.window;
      const size_t numDue = dueTimers_.keys.size();
      keyHashes_.resize(numDue);
      for (size_t i = 0; i < numDue; ++i) keyHashes_[i] = KeyCache::hashOf(dueTimers_.keys[i].key);
      const auto dueHash = [this](size_t i) { return keyHashes_[i]; };
      for (size_t i = 0; i < std::min(numDue, kSlotPrefetchDistance); ++i) keys_.prefetchSlot(keyHashes_[i]);
      for (size_t i = 0; i < numDue; ++i) {
        prefetchLookups(keys_, i, numDue, dueHash);
        const WindowTimerBuckets::KeyTimer& timer = dueTimers_.keys[i];
        SLUICE_ASSIGN_OR_RETURN(KeyCache::Entry * cached,
                                findKey(timer.keyGroup, timer.key, keyHashes_[i], /*create=*/false));
        if (cached == nullptr) continue;
        if (output_->numRows() >= kMaxOutputRows) SLUICE_RETURN_NOT_OK(flushOutput(out));
        if (fire) SLUICE_RETURN_NOT_OK(emitSlicedWindow(cached->value, cached->key, end));
        if (!fire || dropOnFire) SLUICE_RETURN_NOT_OK(cleanupSlicedWindow(cached, end));
      }
    }
  }
  // Every timer up to the watermark ran, so stored entries that old were loaded and dropped.
  firedUntil_ = watermark_;
  while (!storedSlices_.empty() && sliceDropTime(*storedSlices_.begin()) <= firedUntil_) {
    storedSlices_.erase(storedSlices_.begin());
  }
  if (evictedKeys_.size() > evictedKeysPurgeSize_) {
    // Forget evicted keys whose stored slices have all been dropped (bounds the index).
    std::erase_if(evictedKeys_, [&](const auto& evicted) { return evicted.second <= firedUntil_; });
    evictedKeysPurgeSize_ = std::max<size_t>(kMinEvictedKeysPurgeSize, 2 * evictedKeys_.size());
  }
  SLUICE_RETURN_NOT_OK(evictIfFull());
  SLUICE_RETURN_NOT_OK(flushOutput(out));
  return out.emitWatermark(timestamp);
}

}  // namespace sluice::window
