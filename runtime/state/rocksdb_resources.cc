// RocksDbResources and the options, merge operator and compaction filter
// shared by every RocksDB instance of the process.
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <cstdarg>
#include <cstdio>

#include <fmt/format.h>

#include "runtime/base/logging.h"
#include "runtime/state/rocksdb_internal.h"
#include "runtime/state/state_layout.h"

namespace sluice {
namespace {

std::mutex processWideMutex;
std::optional<RocksDbResourceOptions> processWideOptions;
std::shared_ptr<RocksDbResources> processWideInstance;

bool sameOptions(const RocksDbResourceOptions& a, const RocksDbResourceOptions& b) {
  return a.blockCacheBytes == b.blockCacheBytes && a.writeBufferBytes == b.writeBufferBytes &&
         a.backgroundThreads == b.backgroundThreads;
}

// Routes RocksDB's info log to the "state" logger instead of LOG files in the database directory.
class SpdlogInfoLog final : public rocksdb::Logger {
 public:
  SpdlogInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list arguments) override {
    write(rocksdb::InfoLogLevel::INFO_LEVEL, format, arguments);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list arguments) override {
    if (level < GetInfoLogLevel()) return;
    write(level, format, arguments);
  }

 private:
  static void write(rocksdb::InfoLogLevel level, const char* format, va_list arguments) {
    char buffer[1024];
    std::vsnprintf(buffer, sizeof(buffer), format, arguments);
    auto log = logger("state");
    // RocksDB's warnings are mostly routine (e.g. nested file-deletion pins); failures reach callers as Status.
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      log->error("rocksdb: {}", buffer);
    } else if (level >= rocksdb::InfoLogLevel::WARN_LEVEL) {
      log->info("rocksdb: {}", buffer);
    } else {
      log->debug("rocksdb: {}", buffer);
    }
  }
};

// The prefix of an entry key up to and including the record key: [key group][state][key length][key].
// Every entry of one map (or list) state of one key shares it, so a map scan skips the SST files whose
// prefix Bloom filter rules the key out instead of seeking in each of them. Metadata keys (key group
// 0xFFFF) and keys too short to parse are outside the domain.
class RecordKeyPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "sluice.RecordKeyPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return rocksdb::Slice(key.data(), length(key)); }
  bool InDomain(const rocksdb::Slice& key) const override {
    if (key.size() < 8) return false;
    if (state_layout::readUInt16(key.data()) == state_layout::kMetadataKeyGroup) return false;
    return length(key) <= key.size();
  }

 private:
  static size_t length(const rocksdb::Slice& key) { return 8 + size_t{state_layout::readUInt32(key.data() + 4)}; }
};

}  // namespace

Status fromRocksDb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::OK();
  std::string message = fmt::format("{}: {}", context, status.ToString());
  if (status.IsCorruption()) return Status::corruption(std::move(message));
  if (status.IsNotFound()) return Status::notFound(std::move(message));
  if (status.IsInvalidArgument()) return Status::invalidArgument(std::move(message));
  return Status::ioError(std::move(message));
}

RocksDbResources::RocksDbResources(RocksDbResourceOptions options, std::unique_ptr<Impl> impl)
    : options_(options), impl_(std::move(impl)) {}

RocksDbResources::~RocksDbResources() = default;

Result<std::shared_ptr<RocksDbResources>> RocksDbResources::make(const RocksDbResourceOptions& options) {
  if (options.blockCacheBytes <= 0 || options.writeBufferBytes <= 0 || options.backgroundThreads <= 0) {
    return Status::invalidArgument(fmt::format(
        "RocksDB resources need a positive block cache ({}), write buffer budget ({}) and thread count ({})",
        options.blockCacheBytes, options.writeBufferBytes, options.backgroundThreads));
  }
  auto impl = std::make_unique<Impl>();
  impl->blockCache = rocksdb::NewLRUCache(static_cast<size_t>(options.blockCacheBytes));
  impl->writeBufferManager =
      std::make_shared<rocksdb::WriteBufferManager>(static_cast<size_t>(options.writeBufferBytes), impl->blockCache);
  rocksdb::Env::Default()->IncBackgroundThreadsIfNeeded(options.backgroundThreads, rocksdb::Env::LOW);
  rocksdb::Env::Default()->IncBackgroundThreadsIfNeeded(1, rocksdb::Env::HIGH);
  return std::shared_ptr<RocksDbResources>(new RocksDbResources(options, std::move(impl)));
}

std::shared_ptr<RocksDbResources> RocksDbResources::processWide() {
  std::lock_guard lock(processWideMutex);
  if (!processWideInstance) {
    auto made = make(processWideOptions.value_or(RocksDbResourceOptions{}));
    SLUICE_CHECK(made.ok(), made.status().toString());
    processWideInstance = std::move(made).value();
  }
  return processWideInstance;
}

Status RocksDbResources::configureProcessWide(const RocksDbResourceOptions& options) {
  std::lock_guard lock(processWideMutex);
  if (processWideInstance && !sameOptions(processWideInstance->options(), options)) {
    return Status::invalidArgument("the process-wide RocksDB resources are already in use; configure them first");
  }
  if (options.blockCacheBytes <= 0 || options.writeBufferBytes <= 0 || options.backgroundThreads <= 0) {
    return Status::invalidArgument("RocksDB resources need positive sizes and thread counts");
  }
  processWideOptions = options;
  return Status::OK();
}

int64_t RocksDbResources::blockCacheUsage() const { return static_cast<int64_t>(impl_->blockCache->GetUsage()); }

bool ListAppendOperator::FullMergeV2(const MergeOperationInput& input, MergeOperationOutput* output) const {
  size_t total = input.existing_value != nullptr ? input.existing_value->size() : 0;
  for (const rocksdb::Slice& operand : input.operand_list) total += operand.size();
  output->new_value.clear();
  output->new_value.reserve(total);
  if (input.existing_value != nullptr)
    output->new_value.append(input.existing_value->data(), input.existing_value->size());
  for (const rocksdb::Slice& operand : input.operand_list) output->new_value.append(operand.data(), operand.size());
  return true;
}

bool ListAppendOperator::PartialMergeMulti(const rocksdb::Slice& /*key*/, const std::deque<rocksdb::Slice>& operands,
                                           std::string* newValue, rocksdb::Logger* /*logger*/) const {
  newValue->clear();
  for (const rocksdb::Slice& operand : operands) newValue->append(operand.data(), operand.size());
  return true;
}

void TtlCompactionFilter::setListState(int id) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(listStates_.size()) <= id) listStates_.resize(id + 1, false);
  listStates_[id] = true;
}

bool TtlCompactionFilter::isListState(int id) const {
  std::lock_guard lock(mutex_);
  return id < static_cast<int>(listStates_.size()) && listStates_[id];
}

rocksdb::CompactionFilter::Decision TtlCompactionFilter::FilterV2(int /*level*/, const rocksdb::Slice& key,
                                                                  ValueType valueType,
                                                                  const rocksdb::Slice& existingValue,
                                                                  std::string* newValue,
                                                                  std::string* /*skipUntil*/) const {
  if (valueType != ValueType::kValue) return Decision::kKeep;
  state_layout::DecodedKey decoded;
  if (!state_layout::decodeKey(std::string_view(key.data(), key.size()), &decoded) ||
      decoded.keyGroup == state_layout::kMetadataKeyGroup) {
    return Decision::kKeep;
  }
  int64_t now = clock_->now();
  std::string_view stored(existingValue.data(), existingValue.size());
  if (!isListState(decoded.state)) {
    int64_t expiry = 0;
    std::string_view value;
    if (!state_layout::decodeTimestamped(stored, &expiry, &value)) return Decision::kKeep;
    return state_layout::isExpired(expiry, now) ? Decision::kRemove : Decision::kKeep;
  }
  std::string kept;
  bool droppedAny = false;
  bool wellFormed = state_layout::forEachListElement(stored, [&](int64_t expiry, std::string_view element) {
    if (state_layout::isExpired(expiry, now)) {
      droppedAny = true;
    } else {
      state_layout::appendListElement(kept, expiry, element);
    }
    return true;
  });
  if (!wellFormed || !droppedAny) return Decision::kKeep;
  if (kept.empty()) return Decision::kRemove;
  *newValue = std::move(kept);
  return Decision::kChangeValue;
}

rocksdb::Options makeDatabaseOptions(const RocksDbResources& resources, int64_t writeBufferBytes,
                                     std::shared_ptr<rocksdb::MergeOperator> mergeOperator,
                                     const rocksdb::CompactionFilter* compactionFilter) {
  static const std::shared_ptr<rocksdb::Logger> infoLog = std::make_shared<SpdlogInfoLog>();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = rocksdb::Env::Default();
  options.info_log = infoLog;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;
  options.max_background_jobs = resources.options().backgroundThreads;
  options.write_buffer_manager = resources.impl().writeBufferManager;
  options.write_buffer_size = static_cast<size_t>(writeBufferBytes);
  options.max_write_buffer_number = 2;
  options.target_file_size_base = static_cast<uint64_t>(std::max<int64_t>(writeBufferBytes, int64_t{4} << 20));
  options.max_bytes_for_level_base = options.target_file_size_base * 4;
  options.level_compaction_dynamic_level_bytes = true;
  options.level0_file_num_compaction_trigger = 8;
  options.level0_slowdown_writes_trigger = 24;
  options.level0_stop_writes_trigger = 40;
  options.avoid_flush_during_shutdown = true;
  // Every snapshot copies the MANIFEST; rolling it keeps that copy small.
  options.max_manifest_file_size = uint64_t{4} << 20;
  options.merge_operator = std::move(mergeOperator);
  options.compaction_filter = compactionFilter;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = resources.impl().blockCache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;  // point reads (value state) keep their filter
  options.prefix_extractor = std::make_shared<RecordKeyPrefix>();
  table.block_size = 16 * 1024;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace sluice
