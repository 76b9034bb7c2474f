// Module-private RocksDB pieces: the shared resources' innards, the list
// merge operator, the TTL compaction filter and the options every instance uses.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_buffer_manager.h>

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/state/rocksdb_state_backend.h"
#include "runtime/state/state_catalog.h"

namespace sluice {

struct RocksDbResources::Impl {
  std::shared_ptr<rocksdb::Cache> blockCache;
  std::shared_ptr<rocksdb::WriteBufferManager> writeBufferManager;
};

/// Converts a RocksDB status: OK stays OK; corruption stays Corruption; the
/// rest becomes IOError. `context` says what was being done.
Status fromRocksDb(const rocksdb::Status& status, std::string_view context);

/// List state's merge operator: appending is concatenating encoded elements
/// (state_layout.h), so full and partial merges are plain concatenations.
class ListAppendOperator final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& input, MergeOperationOutput* output) const override;
  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands, std::string* newValue,
                         rocksdb::Logger* logger) const override;
  const char* Name() const override { return "SluiceListAppend"; }
};

/// Drops expired values, map entries and list elements during compaction, as
/// Flink's RocksDB TTL compaction filter. Uses the backend's TtlClock, so it
/// never drops what a read at the same time would still return. Thread-safe:
/// compactions run on RocksDB's background threads.
class TtlCompactionFilter final : public rocksdb::CompactionFilter {
 public:
  explicit TtlCompactionFilter(std::shared_ptr<const TtlClock> clock) : clock_(std::move(clock)) {}
  /// Marks state `id` as list state (its values are element sequences).
  void setListState(int id);
  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType valueType, const rocksdb::Slice& existingValue,
                    std::string* newValue, std::string* skipUntil) const override;
  const char* Name() const override { return "SluiceTtlCompactionFilter"; }

 private:
  bool isListState(int id) const;
  std::shared_ptr<const TtlClock> clock_;
  mutable std::mutex mutex_;
  std::vector<bool> listStates_;
};

/// Options for a database that uses the shared `resources`.
rocksdb::Options makeDatabaseOptions(const RocksDbResources& resources, int64_t writeBufferBytes,
                                     std::shared_ptr<rocksdb::MergeOperator> mergeOperator,
                                     const rocksdb::CompactionFilter* compactionFilter);

}  // namespace sluice
