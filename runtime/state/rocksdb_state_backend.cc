#include "runtime/state/rocksdb_state_backend.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "runtime/base/logging.h"
#include "runtime/state/rocksdb_internal.h"
#include "runtime/state/snapshot_format.h"
#include "runtime/state/state_layout.h"

namespace sluice {
namespace fs = std::filesystem;
namespace layout = state_layout;

namespace {

// Buffered writes are written out when they reach half the memtable size within these bounds (one
// write goes into one memtable, which must not outgrow its budget by much).
constexpr size_t kMinPendingBytes = size_t{64} << 10;
constexpr size_t kMaxPendingBytes = size_t{32} << 20;

rocksdb::Slice toSlice(std::string_view bytes) { return rocksdb::Slice(bytes.data(), bytes.size()); }
std::string_view toView(const rocksdb::Slice& slice) { return std::string_view(slice.data(), slice.size()); }

// Writes buffered between reads, handed to RocksDB in key order. A large buffer (a window operator
// writing back hundreds of thousands of cached entries at a checkpoint) becomes an SST file that is
// ingested, skipping the memtable insert and its flush; a smaller one is one write batch in key order,
// since the memtable is a skip list whose inserts in ascending order reuse the previous insert's
// position while a random order pays a search from the top per entry.
constexpr size_t kIngestMinBytes = size_t{1} << 20;

class PendingWrites {
 public:
  enum class Kind : uint8_t { kPut, kDelete, kMerge };

  rocksdb::Status Put(const rocksdb::Slice& key, const rocksdb::Slice& value) { return add(Kind::kPut, key, value); }
  rocksdb::Status Delete(const rocksdb::Slice& key) { return add(Kind::kDelete, key, {}); }
  rocksdb::Status Merge(const rocksdb::Slice& key, const rocksdb::Slice& value) {
    return add(Kind::kMerge, key, value);
  }
  size_t Count() const { return writes_.size(); }
  size_t GetDataSize() const { return bytes_.size() + writes_.size() * sizeof(Write); }
  void Clear() {
    bytes_.clear();
    writes_.clear();
  }
  /// Orders the writes by key; writes to one key keep their order.
  void sort() {
    std::stable_sort(writes_.begin(), writes_.end(),
                     [this](const Write& a, const Write& b) { return key(a) < key(b); });
  }
  /// After sort(): keeps only the last write of each key, so that keys strictly ascend. False (and
  /// nothing dropped) when a key written more than once has a merge among its writes.
  bool dropOverwritten() {
    for (size_t i = 0; i + 1 < writes_.size(); ++i) {
      if (key(writes_[i]) == key(writes_[i + 1]) &&
          (writes_[i].kind == Kind::kMerge || writes_[i + 1].kind == Kind::kMerge)) {
        return false;
      }
    }
    size_t kept = 0;
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (i + 1 < writes_.size() && key(writes_[i]) == key(writes_[i + 1])) continue;
      writes_[kept++] = writes_[i];
    }
    writes_.resize(kept);
    return true;
  }
  /// Replays the writes in order into `sink` (a rocksdb::WriteBatch or SstFileWriter: Put, Delete, Merge);
  /// stops at the first error.
  template <typename Sink>
  rocksdb::Status writeTo(Sink& sink) const {
    for (const Write& write : writes_) {
      const rocksdb::Slice key = toSlice(this->key(write));
      const rocksdb::Slice value(bytes_.data() + write.offset + write.keySize, write.valueSize);
      rocksdb::Status status = write.kind == Kind::kPut      ? sink.Put(key, value)
                               : write.kind == Kind::kDelete ? sink.Delete(key)
                                                             : sink.Merge(key, value);
      if (!status.ok()) return status;
    }
    return rocksdb::Status::OK();
  }

 private:
  struct Write {
    size_t offset;
    uint32_t keySize;
    uint32_t valueSize;
    Kind kind;
  };
  rocksdb::Status add(Kind kind, const rocksdb::Slice& key, const rocksdb::Slice& value) {
    if (key.size() > UINT32_MAX || value.size() > UINT32_MAX) {
      return rocksdb::Status::InvalidArgument("state entry larger than 4 GiB");
    }
    writes_.push_back(
        Write{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()), kind});
    bytes_.append(key.data(), key.size());
    bytes_.append(value.data(), value.size());
    return rocksdb::Status::OK();
  }
  std::string_view key(const Write& write) const {
    return std::string_view(bytes_.data() + write.offset, write.keySize);
  }

  std::string bytes_;
  std::vector<Write> writes_;
};

std::string encodeStateTableValue(int id, StateKind kind) {
  std::string value;
  layout::appendUInt16(value, static_cast<uint16_t>(id));
  value.push_back(static_cast<char>(stateKindCode(kind)));
  return value;
}

// Reads the name table (key group 0xFFFF) of an open database.
Status loadStateTable(rocksdb::DB& db, StateCatalog& catalog) {
  std::string start = layout::keyGroupStart(layout::kMetadataKeyGroup);
  rocksdb::ReadOptions options;
  options.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> iterator(db.NewIterator(options));
  for (iterator->Seek(toSlice(start)); iterator->Valid(); iterator->Next()) {
    std::string_view name;
    if (!layout::decodeMetadataKey(toView(iterator->key()), &name)) break;
    std::string_view value = toView(iterator->value());
    StateKind kind;
    if (value.size() != 3 || !stateKindFromCode(static_cast<uint8_t>(value[2]), &kind)) {
      return Status::corruption(fmt::format("state table entry for '{}' is damaged", name));
    }
    SLUICE_RETURN_NOT_OK(catalog.addWithId(layout::readUInt16(value.data()), name, kind));
  }
  return fromRocksDb(iterator->status(), "cannot read the state table");
}

// Links (SSTs) or copies (everything else) the files of a snapshot into `target` under their database names.
Status materializeSnapshot(const SnapshotManifest& manifest, const std::string& root, const fs::path& target,
                           const HardLinkFunction& hardLink) {
  std::error_code error;
  fs::remove_all(target, error);
  fs::create_directories(target, error);
  if (error) return Status::ioError(fmt::format("cannot create '{}': {}", target.string(), error.message()));
  for (const SnapshotFile& file : manifest.files) {
    fs::path source = fs::path(root) / file.relativePath;
    fs::path destination = target / file.name;
    Status status = file.shared ? linkOrCopyFile(source, destination, hardLink) : copyFile(source, destination);
    if (!status.ok()) return status.withContext(fmt::format("restoring checkpoint {}", manifest.checkpointId));
  }
  return Status::OK();
}

}  // namespace

struct RocksDbStateBackend::Impl {
  StateBackendOptions options;
  Settings settings;
  fs::path databasePath;
  std::shared_ptr<TtlClock> clock = std::make_shared<TtlClock>();
  std::unique_ptr<TtlCompactionFilter> compactionFilter;
  std::shared_ptr<rocksdb::MergeOperator> mergeOperator = std::make_shared<ListAppendOperator>();
  std::unique_ptr<rocksdb::DB> database;
  rocksdb::WriteOptions writeOptions;
  rocksdb::ReadOptions readOptions;
  rocksdb::Options databaseOptions;
  PendingWrites pending;
  size_t maxPendingBytes = kMinPendingBytes;
  rocksdb::WriteBatch pendingBatch;
  int64_t ingestCount = 0;
  StateCatalog catalog;
  std::string instanceId = randomFileId();
  bool restoreAllowed = true;
  // Database SST name → absolute path of its copy in a shared directory, for the last confirmed checkpoint,
  // and for each uploaded checkpoint not confirmed yet. Guarded by sharedMutex (uploads run on other threads).
  std::mutex sharedMutex;
  std::map<std::string, fs::path> confirmedShared;
  std::map<int64_t, std::map<std::string, fs::path>> pendingShared;
  std::string keyBuffer;
  std::string valueBuffer;
  rocksdb::PinnableSlice readBuffer;

  ~Impl() {
    closeDatabase();
    std::error_code ignored;
    fs::remove_all(databasePath, ignored);
    fs::remove(options.directory, ignored);  // only when empty
  }

  void closeDatabase() {
    if (!database) return;
    ignoreError(fromRocksDb(database->Close(), "closing RocksDB"));
    database.reset();
  }

  Status openDatabase() {
    compactionFilter = std::make_unique<TtlCompactionFilter>(clock);
    databaseOptions =
        makeDatabaseOptions(*settings.resources, settings.writeBufferBytes, mergeOperator, compactionFilter.get());
    rocksdb::DB* raw = nullptr;
    SLUICE_RETURN_NOT_OK(fromRocksDb(rocksdb::DB::Open(databaseOptions, databasePath.string(), &raw),
                                     fmt::format("cannot open RocksDB state in '{}'", databasePath.string())));
    database.reset(raw);
    catalog = StateCatalog();
    SLUICE_RETURN_NOT_OK(loadStateTable(*database, catalog));
    for (int id = 0; id < catalog.size(); ++id) {
      const StateInfo* info = catalog.find(id);
      if (info != nullptr && info->kind == StateKind::kList) compactionFilter->setListState(id);
    }
    return Status::OK();
  }

  Status openFresh() {
    closeDatabase();
    std::error_code error;
    fs::remove_all(databasePath, error);
    fs::create_directories(databasePath, error);
    if (error) return Status::ioError(fmt::format("cannot create '{}': {}", databasePath.string(), error.message()));
    return openDatabase();
  }

  Status flushPending() {
    if (pending.Count() == 0) return Status::OK();
    pending.sort();
    const bool large = pending.GetDataSize() >= std::min(kIngestMinBytes, maxPendingBytes);
    Status status = large && pending.dropOverwritten() ? ingestPending() : writePendingBatch();
    pending.Clear();
    return status;
  }

  Status writePendingBatch() {
    pendingBatch.Clear();
    rocksdb::Status status = pending.writeTo(pendingBatch);
    if (status.ok()) status = database->Write(writeOptions, &pendingBatch);
    pendingBatch.Clear();
    return fromRocksDb(status, "RocksDB state write failed");
  }

  // Writes the (sorted, one write per key) buffer as an SST file and moves it into the database.
  Status ingestPending() {
    const std::string file = (fs::path(options.directory) / fmt::format("ingest-{}.sst", ingestCount++)).string();
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), databaseOptions);
    rocksdb::Status status = writer.Open(file);
    if (status.ok()) {
      status = pending.writeTo(writer);
    }
    if (status.ok()) status = writer.Finish();
    if (status.ok()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      status = database->IngestExternalFile({file}, ingest);
    }
    std::error_code ignored;
    fs::remove(file, ignored);
    return fromRocksDb(status, "RocksDB state write (SST ingestion) failed");
  }

  Status maybeFlushPending() {
    if (pending.GetDataSize() < maxPendingBytes) return Status::OK();
    return flushPending();
  }

  const std::string& encodeKey(const StateKey& key) {
    keyBuffer.clear();
    layout::appendKeyPrefix(keyBuffer, key.keyGroup, key.state, key.key);
    keyBuffer.append(key.userKey);
    return keyBuffer;
  }

  int64_t expiryFor(const StateInfo& info) const { return layout::expiryFor(clock->now(), info.ttlMillis); }

  Result<int> addState(std::string_view name, StateKind kind, const StateDescriptor* descriptor) {
    bool added = false;
    Result<int> id =
        descriptor != nullptr ? catalog.registerState(*descriptor, &added) : catalog.addRestored(name, kind, &added);
    if (!id.ok() || !added) return id;
    auto status = pending.Put(toSlice(layout::metadataKey(name)), toSlice(encodeStateTableValue(*id, kind)));
    SLUICE_RETURN_NOT_OK(fromRocksDb(status, "cannot record state"));
    if (kind == StateKind::kList) compactionFilter->setListState(*id);
    return id;
  }

  // Deletes every entry whose key starts with `prefix` (map state of one key).
  Status deletePrefix(std::string_view prefix) {
    SLUICE_RETURN_NOT_OK(flushPending());
    std::string upper = layout::prefixSuccessor(prefix);
    rocksdb::Slice upperSlice = toSlice(upper);
    rocksdb::ReadOptions scanOptions = readOptions;
    if (!upper.empty()) scanOptions.iterate_upper_bound = &upperSlice;
    std::unique_ptr<rocksdb::Iterator> iterator(database->NewIterator(scanOptions));
    for (iterator->Seek(toSlice(prefix)); iterator->Valid(); iterator->Next()) {
      SLUICE_RETURN_NOT_OK(fromRocksDb(pending.Delete(iterator->key()), "RocksDB delete failed"));
    }
    SLUICE_RETURN_NOT_OK(fromRocksDb(iterator->status(), "RocksDB scan failed"));
    return flushPending();
  }

  Status restore(const std::vector<StateSnapshot>& snapshots, const std::string& root);
};

RocksDbStateBackend::RocksDbStateBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbStateBackend::~RocksDbStateBackend() = default;

Result<std::unique_ptr<RocksDbStateBackend>> RocksDbStateBackend::open(const StateBackendOptions& options,
                                                                       Settings settings) {
  SLUICE_RETURN_NOT_OK(validateStateBackendOptions(options));
  if (options.directory.empty()) {
    return Status::invalidArgument("the rocksdb state backend needs a working directory");
  }
  if (settings.writeBufferBytes <= 0) return Status::invalidArgument("rocksdb write buffer size must be positive");
  if (!settings.resources) settings.resources = RocksDbResources::processWide();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->settings = std::move(settings);
  impl->databasePath = fs::path(options.directory) / "db";
  impl->maxPendingBytes =
      std::clamp(static_cast<size_t>(impl->settings.writeBufferBytes / 2), kMinPendingBytes, kMaxPendingBytes);
  // Scans see every key in order unless they ask for one record key's entries (scanMap).
  impl->readOptions.total_order_seek = true;
  impl->writeOptions.disableWAL = true;
  impl->writeOptions.sync = false;
  SLUICE_RETURN_NOT_OK(impl->openFresh());
  return std::unique_ptr<RocksDbStateBackend>(new RocksDbStateBackend(std::move(impl)));
}

KeyGroupRange RocksDbStateBackend::keyGroups() const { return impl_->options.keyGroups; }

std::string RocksDbStateBackend::databaseDirectory() const { return impl_->databasePath.string(); }

Result<int> RocksDbStateBackend::registerState(const StateDescriptor& descriptor) {
  impl_->restoreAllowed = false;
  return impl_->addState(descriptor.name, descriptor.kind, &descriptor);
}

void RocksDbStateBackend::setCurrentTime(int64_t millis) { impl_->clock->set(millis); }

Result<std::optional<std::string>> RocksDbStateBackend::get(const StateKey& key) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kValue));
  (void)info;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  impl.readBuffer.Reset();
  rocksdb::Status status = impl.database->Get(impl.readOptions, impl.database->DefaultColumnFamily(),
                                              toSlice(impl.encodeKey(key)), &impl.readBuffer);
  if (status.IsNotFound()) return std::optional<std::string>();
  SLUICE_RETURN_NOT_OK(fromRocksDb(status, "RocksDB state read failed"));
  int64_t expiry = 0;
  std::string_view value;
  if (!layout::decodeTimestamped(toView(impl.readBuffer), &expiry, &value)) {
    return Status::corruption("stored state value is shorter than its TTL header");
  }
  if (layout::isExpired(expiry, impl.clock->now())) return std::optional<std::string>();
  return std::optional<std::string>(std::string(value));
}

Status RocksDbStateBackend::put(const StateKey& key, std::string_view value) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kValue));
  impl.valueBuffer.clear();
  layout::appendTimestamped(impl.valueBuffer, impl.expiryFor(*info), value);
  SLUICE_RETURN_NOT_OK(
      fromRocksDb(impl.pending.Put(toSlice(impl.encodeKey(key)), toSlice(impl.valueBuffer)), "RocksDB put failed"));
  return impl.maybeFlushPending();
}

Status RocksDbStateBackend::remove(const StateKey& key) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kAny));
  (void)info;
  SLUICE_RETURN_NOT_OK(fromRocksDb(impl.pending.Delete(toSlice(impl.encodeKey(key))), "RocksDB delete failed"));
  return impl.maybeFlushPending();
}

Status RocksDbStateBackend::clear(const StateKey& key) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups,
                                           StateKey{key.state, key.keyGroup, key.key, {}}, StateAccess::kAny));
  if (info->kind != StateKind::kMap) return remove(StateKey{key.state, key.keyGroup, key.key, {}});
  std::string prefix;
  layout::appendKeyPrefix(prefix, key.keyGroup, key.state, key.key);
  return impl.deletePrefix(prefix);
}

Status RocksDbStateBackend::append(const StateKey& key, std::string_view element) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kList));
  impl.valueBuffer.clear();
  layout::appendListElement(impl.valueBuffer, impl.expiryFor(*info), element);
  SLUICE_RETURN_NOT_OK(
      fromRocksDb(impl.pending.Merge(toSlice(impl.encodeKey(key)), toSlice(impl.valueBuffer)), "RocksDB merge failed"));
  return impl.maybeFlushPending();
}

Status RocksDbStateBackend::putList(const StateKey& key, const std::vector<std::string>& elements) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kList));
  const std::string& encodedKey = impl.encodeKey(key);
  rocksdb::Status status;
  if (elements.empty()) {
    status = impl.pending.Delete(toSlice(encodedKey));
  } else {
    impl.valueBuffer.clear();
    int64_t expiry = impl.expiryFor(*info);
    for (const std::string& element : elements) layout::appendListElement(impl.valueBuffer, expiry, element);
    status = impl.pending.Put(toSlice(encodedKey), toSlice(impl.valueBuffer));
  }
  SLUICE_RETURN_NOT_OK(fromRocksDb(status, "RocksDB list write failed"));
  return impl.maybeFlushPending();
}

Result<std::vector<std::string>> RocksDbStateBackend::getList(const StateKey& key) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kList));
  (void)info;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  impl.readBuffer.Reset();
  rocksdb::Status status = impl.database->Get(impl.readOptions, impl.database->DefaultColumnFamily(),
                                              toSlice(impl.encodeKey(key)), &impl.readBuffer);
  std::vector<std::string> elements;
  if (status.IsNotFound()) return elements;
  SLUICE_RETURN_NOT_OK(fromRocksDb(status, "RocksDB state read failed"));
  int64_t now = impl.clock->now();
  bool wellFormed = layout::forEachListElement(toView(impl.readBuffer), [&](int64_t expiry, std::string_view element) {
    if (!layout::isExpired(expiry, now)) elements.emplace_back(element);
    return true;
  });
  if (!wellFormed) return Status::corruption("stored list state is damaged");
  return elements;
}

Status RocksDbStateBackend::scanMap(const StateKey& key,
                                    const std::function<bool(std::string_view, std::string_view)>& visit) {
  Impl& impl = *impl_;
  SLUICE_ASSIGN_OR_RETURN(const StateInfo* info,
                          validateStateKey(impl.catalog, impl.options.keyGroups, key, StateAccess::kMap));
  (void)info;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  std::string prefix;
  layout::appendKeyPrefix(prefix, key.keyGroup, key.state, key.key);
  std::string upper = layout::prefixSuccessor(prefix);
  rocksdb::Slice upperSlice = toSlice(upper);
  rocksdb::ReadOptions scanOptions = impl.readOptions;
  if (!upper.empty()) scanOptions.iterate_upper_bound = &upperSlice;
  // Only this key's entries: SST files whose prefix filter rules the key out are skipped.
  scanOptions.total_order_seek = false;
  scanOptions.prefix_same_as_start = true;
  int64_t now = impl.clock->now();
  std::unique_ptr<rocksdb::Iterator> iterator(impl.database->NewIterator(scanOptions));
  for (iterator->Seek(toSlice(prefix)); iterator->Valid(); iterator->Next()) {
    int64_t expiry = 0;
    std::string_view value;
    if (!layout::decodeTimestamped(toView(iterator->value()), &expiry, &value)) {
      return Status::corruption("stored map entry is shorter than its TTL header");
    }
    if (layout::isExpired(expiry, now)) continue;
    if (!visit(toView(iterator->key()).substr(prefix.size()), value)) break;
  }
  return fromRocksDb(iterator->status(), "RocksDB map scan failed");
}

Status RocksDbStateBackend::scanAll(
    int state, const std::function<bool(int, std::string_view, std::string_view, std::string_view)>& visit) {
  Impl& impl = *impl_;
  const KeyGroupRange& range = impl.options.keyGroups;
  if (range.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(
      const StateInfo* info,
      validateStateKey(impl.catalog, range, StateKey{state, range.first, {}, {}}, StateAccess::kAny));
  bool isList = info->kind == StateKind::kList;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  int64_t now = impl.clock->now();
  std::unique_ptr<rocksdb::Iterator> iterator(impl.database->NewIterator(impl.readOptions));
  bool stop = false;
  for (int keyGroup = range.first; keyGroup <= range.last && !stop; ++keyGroup) {
    std::string prefix = layout::stateInKeyGroupPrefix(keyGroup, state);
    for (iterator->Seek(toSlice(prefix)); iterator->Valid() && !stop; iterator->Next()) {
      std::string_view encodedKey = toView(iterator->key());
      if (!encodedKey.starts_with(prefix)) break;
      layout::DecodedKey decoded;
      if (!layout::decodeKey(encodedKey, &decoded)) return Status::corruption("stored state key is damaged");
      std::string_view stored = toView(iterator->value());
      if (isList) {
        bool wellFormed = layout::forEachListElement(stored, [&](int64_t expiry, std::string_view element) {
          if (!layout::isExpired(expiry, now)) stop = !visit(keyGroup, decoded.key, {}, element);
          return !stop;
        });
        if (!wellFormed) return Status::corruption("stored list state is damaged");
        continue;
      }
      int64_t expiry = 0;
      std::string_view value;
      if (!layout::decodeTimestamped(stored, &expiry, &value)) return Status::corruption("stored state is damaged");
      if (!layout::isExpired(expiry, now)) stop = !visit(keyGroup, decoded.key, decoded.userKey, value);
    }
    SLUICE_RETURN_NOT_OK(fromRocksDb(iterator->status(), "RocksDB scan failed"));
  }
  return Status::OK();
}

Result<StateSnapshot> RocksDbStateBackend::snapshot(int64_t checkpointId, const std::string& directory) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotUpload> upload, beginSnapshot(checkpointId, directory));
  return upload->run();
}

// The asynchronous part of a RocksDB snapshot: the live files were pinned at
// the cut (file deletions stay disabled until this object is destroyed); run()
// hard-links the SSTs not shared with the last confirmed checkpoint into
// `shared/` and copies the small mutable files (MANIFEST trimmed to its size at
// the cut, CURRENT and OPTIONS) into the checkpoint's own directory.
class RocksDbStateBackend::Upload final : public SnapshotUpload {
 public:
  Upload(Impl& impl, int64_t checkpointId, fs::path exclusive, std::vector<rocksdb::LiveFileStorageInfo> liveFiles)
      : impl_(impl), checkpointId_(checkpointId), exclusive_(std::move(exclusive)), liveFiles_(std::move(liveFiles)) {}
  ~Upload() override { ignoreError(fromRocksDb(impl_.database->EnableFileDeletions(false), "unpin RocksDB files")); }

  Result<StateSnapshot> run() override {
    fs::path root = exclusive_.parent_path();
    fs::path shared = root / "shared";
    std::map<std::string, fs::path> confirmed;
    {
      std::lock_guard lock(impl_.sharedMutex);
      confirmed = impl_.confirmedShared;
    }
    SnapshotManifest manifest;
    manifest.backendType = "rocksdb";
    manifest.checkpointId = checkpointId_;
    manifest.maxParallelism = impl_.options.maxParallelism;
    manifest.keyGroups = impl_.options.keyGroups;
    std::map<std::string, fs::path> sharedNow;
    int64_t newBytes = 0;
    int linkFallbacks = 0;
    std::error_code error;
    for (const rocksdb::LiveFileStorageInfo& file : liveFiles_) {
      if (file.file_type == rocksdb::kWalFile) continue;  // empty: the WAL is off and memtables were flushed
      fs::path source = fs::path(file.directory) / file.relative_filename;
      SnapshotFile entry;
      entry.name = file.relative_filename;
      if (file.file_type == rocksdb::kTableFile || file.file_type == rocksdb::kBlobFile) {
        entry.shared = true;
        entry.size = static_cast<int64_t>(file.size);
        fs::path target;
        auto found = confirmed.find(file.relative_filename);
        if (found != confirmed.end() && found->second.parent_path() == shared && fs::exists(found->second, error)) {
          target = found->second;
        } else {
          target = shared / (randomFileId() + "-" + file.relative_filename);
          bool copied = false;
          SLUICE_RETURN_NOT_OK(linkOrCopyFile(source, target, impl_.settings.hardLink, &copied));
          if (copied) ++linkFallbacks;
          newBytes += entry.size;
        }
        sharedNow[file.relative_filename] = target;
        entry.relativePath = target.lexically_relative(root).string();
      } else {
        fs::path target = exclusive_ / fmt::format("{}-{}-{}", impl_.instanceId, checkpointId_, file.relative_filename);
        if (!file.replacement_contents.empty()) {
          SLUICE_RETURN_NOT_OK(writeFileAtomically(target, file.replacement_contents));
          entry.size = static_cast<int64_t>(file.replacement_contents.size());
        } else {
          SLUICE_RETURN_NOT_OK(copyFile(source, target, file.trim_to_size ? static_cast<int64_t>(file.size) : -1));
          entry.size = static_cast<int64_t>(fs::file_size(target, error));
          if (error) return Status::ioError(fmt::format("cannot stat '{}'", target.string()));
        }
        newBytes += entry.size;
        entry.relativePath = target.lexically_relative(root).string();
      }
      manifest.files.push_back(std::move(entry));
    }
    if (linkFallbacks > 0) {
      logger("state")->info("checkpoint {}: copied {} SST files because hard links failed", checkpointId_,
                            linkFallbacks);
    }

    StateSnapshot result;
    result.backendType = "rocksdb";
    result.keyGroups = impl_.options.keyGroups;
    result.checkpointId = checkpointId_;
    for (const SnapshotFile& file : manifest.files) {
      result.files.push_back(file.relativePath);
      result.sizeBytes += file.size;
    }
    result.incrementalSizeBytes = newBytes;
    result.metadata = manifest.serialize();
    std::lock_guard lock(impl_.sharedMutex);
    impl_.pendingShared[checkpointId_] = std::move(sharedNow);
    return result;
  }

 private:
  Impl& impl_;
  const int64_t checkpointId_;
  const fs::path exclusive_;
  const std::vector<rocksdb::LiveFileStorageInfo> liveFiles_;
};

Result<std::unique_ptr<SnapshotUpload>> RocksDbStateBackend::beginSnapshot(int64_t checkpointId,
                                                                           const std::string& directory) {
  Impl& impl = *impl_;
  if (directory.empty()) return Status::invalidArgument("snapshot directory must not be empty");
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  fs::path exclusive = fs::absolute(directory).lexically_normal();
  if (exclusive.filename().empty()) exclusive = exclusive.parent_path();
  fs::path root = exclusive.parent_path();
  std::error_code error;
  fs::create_directories(exclusive, error);
  if (!error) fs::create_directories(root / "shared", error);
  if (error) return Status::ioError(fmt::format("cannot create snapshot directories under '{}'", root.string()));

  // The cut: every write so far goes into an SST file, and the files that make
  // up the database now stay on disk (compactions may replace them in the
  // database, but not delete them) until the upload is done.
  rocksdb::FlushOptions flushOptions;
  flushOptions.wait = true;
  SLUICE_RETURN_NOT_OK(fromRocksDb(impl.database->Flush(flushOptions), "cannot flush RocksDB state for a snapshot"));
  SLUICE_RETURN_NOT_OK(fromRocksDb(impl.database->DisableFileDeletions(), "cannot pin RocksDB files"));
  std::vector<rocksdb::LiveFileStorageInfo> liveFiles;
  rocksdb::Status listed = impl.database->GetLiveFilesStorageInfo(rocksdb::LiveFilesStorageInfoOptions(), &liveFiles);
  if (!listed.ok()) {
    ignoreError(fromRocksDb(impl.database->EnableFileDeletions(false), "unpin RocksDB files"));
    return fromRocksDb(listed, "cannot list RocksDB files");
  }
  return std::unique_ptr<SnapshotUpload>(std::make_unique<Upload>(impl, checkpointId, exclusive, std::move(liveFiles)));
}

Status RocksDbStateBackend::notifyCheckpointComplete(int64_t checkpointId) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.sharedMutex);
  auto found = impl.pendingShared.find(checkpointId);
  if (found == impl.pendingShared.end()) return Status::OK();
  impl.confirmedShared = std::move(found->second);
  impl.pendingShared.erase(impl.pendingShared.begin(), std::next(found));
  return Status::OK();
}

Status RocksDbStateBackend::restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) {
  return impl_->restore(snapshots, root);
}

Status RocksDbStateBackend::Impl::restore(const std::vector<StateSnapshot>& snapshots, const std::string& root) {
  if (!restoreAllowed) {
    return Status::invalidArgument("restore must be called on a fresh state backend, before any state is registered");
  }
  const KeyGroupRange& range = options.keyGroups;
  std::vector<SnapshotManifest> relevant;
  for (const StateSnapshot& snapshot : snapshots) {
    if (snapshot.keyGroups.intersect(range).empty()) continue;
    SLUICE_ASSIGN_OR_RETURN(SnapshotManifest manifest, checkSnapshot(snapshot, root, options.maxParallelism));
    relevant.push_back(std::move(manifest));
  }
  restoreAllowed = false;
  if (relevant.empty()) return Status::OK();

  // The RocksDB snapshot that overlaps most becomes the database; the others are copied in entry by entry.
  int base = -1;
  for (size_t i = 0; i < relevant.size(); ++i) {
    if (relevant[i].backendType != "rocksdb") continue;
    if (base < 0 || relevant[i].keyGroups.intersect(range).size() > relevant[base].keyGroups.intersect(range).size()) {
      base = static_cast<int>(i);
    }
  }
  auto failed = [this](const Status& status) {
    Status reopened = openFresh();
    return reopened.ok() ? status : reopened.withContext(status.toString());
  };
  if (base >= 0) {
    const SnapshotManifest& manifest = relevant[base];
    closeDatabase();
    Status status = materializeSnapshot(manifest, root, databasePath, settings.hardLink);
    if (status.ok()) status = openDatabase();
    if (!status.ok()) {
      return failed(status.withContext(
          fmt::format("cannot restore RocksDB state of checkpoint {} from '{}'", manifest.checkpointId, root)));
    }
    rocksdb::ColumnFamilyHandle* family = database->DefaultColumnFamily();
    if (manifest.keyGroups.first < range.first) {
      status = fromRocksDb(
          database->DeleteRange(writeOptions, family, layout::keyGroupStart(0), layout::keyGroupStart(range.first)),
          "cannot drop key groups outside the range");
    }
    if (status.ok() && manifest.keyGroups.last > range.last) {
      status = fromRocksDb(database->DeleteRange(writeOptions, family, layout::keyGroupStart(range.last + 1),
                                                 layout::keyGroupStart(layout::kMetadataKeyGroup)),
                           "cannot drop key groups outside the range");
    }
    if (!status.ok()) return failed(status);
    for (const SnapshotFile& file : manifest.files) {
      if (file.shared) confirmedShared[file.name] = (fs::absolute(root) / file.relativePath).lexically_normal();
    }
  }

  std::string pendingListKey;
  std::string pendingListValue;
  auto writePendingList = [&]() -> Status {
    if (pendingListKey.empty()) return Status::OK();
    auto status = pending.Put(toSlice(pendingListKey), toSlice(pendingListValue));
    pendingListKey.clear();
    pendingListValue.clear();
    SLUICE_RETURN_NOT_OK(fromRocksDb(status, "RocksDB restore write failed"));
    return maybeFlushPending();
  };
  std::string entryKey;
  auto ingest = [&](const SnapshotEntry& entry) -> Status {
    SLUICE_ASSIGN_OR_RETURN(int id, addState(entry.stateName, entry.kind, nullptr));
    entryKey = layout::encodeKey(entry.keyGroup, id, entry.key, entry.userKey);
    if (entry.kind == StateKind::kList) {
      if (entryKey != pendingListKey) {
        SLUICE_RETURN_NOT_OK(writePendingList());
        pendingListKey = entryKey;
      }
      layout::appendListElement(pendingListValue, entry.expiry, entry.value);
      return Status::OK();
    }
    SLUICE_RETURN_NOT_OK(writePendingList());
    valueBuffer.clear();
    layout::appendTimestamped(valueBuffer, entry.expiry, entry.value);
    SLUICE_RETURN_NOT_OK(
        fromRocksDb(pending.Put(toSlice(entryKey), toSlice(valueBuffer)), "RocksDB restore write failed"));
    return maybeFlushPending();
  };
  int64_t now = clock->now();
  for (size_t i = 0; i < relevant.size(); ++i) {
    if (static_cast<int>(i) == base) continue;
    std::string scratch = (fs::path(options.directory) / fmt::format("restore-{}", i)).string();
    Status status = readSnapshotEntries(relevant[i], root, range, scratch, now, settings.hardLink, ingest);
    if (status.ok()) status = writePendingList();
    if (!status.ok()) {
      pending.Clear();
      return failed(status.withContext(
          fmt::format("cannot restore state of checkpoint {} from '{}'", relevant[i].checkpointId, root)));
    }
  }
  return flushPending();
}

Status RocksDbStateBackend::compactForTesting() {
  Impl& impl = *impl_;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  rocksdb::FlushOptions flushOptions;
  SLUICE_RETURN_NOT_OK(fromRocksDb(impl.database->Flush(flushOptions), "flush failed"));
  rocksdb::CompactRangeOptions compactOptions;
  compactOptions.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return fromRocksDb(impl.database->CompactRange(compactOptions, nullptr, nullptr), "compaction failed");
}

Result<int64_t> RocksDbStateBackend::countStoredEntriesForTesting() {
  Impl& impl = *impl_;
  SLUICE_RETURN_NOT_OK(impl.flushPending());
  std::string upper = layout::keyGroupStart(layout::kMetadataKeyGroup);
  rocksdb::Slice upperSlice = toSlice(upper);
  rocksdb::ReadOptions scanOptions;
  scanOptions.total_order_seek = true;
  scanOptions.iterate_upper_bound = &upperSlice;
  std::unique_ptr<rocksdb::Iterator> iterator(impl.database->NewIterator(scanOptions));
  int64_t count = 0;
  for (iterator->SeekToFirst(); iterator->Valid(); iterator->Next()) ++count;
  SLUICE_RETURN_NOT_OK(fromRocksDb(iterator->status(), "scan failed"));
  return count;
}

Status readRocksDbSnapshotEntries(const SnapshotManifest& manifest, const std::string& root,
                                  const KeyGroupRange& keyGroups, const std::string& scratchDirectory, int64_t now,
                                  const HardLinkFunction& hardLink, const SnapshotEntryVisitor& visit) {
  KeyGroupRange range = manifest.keyGroups.intersect(keyGroups);
  if (range.empty()) return Status::OK();
  SLUICE_RETURN_NOT_OK(materializeSnapshot(manifest, root, scratchDirectory, hardLink));
  struct RemoveScratch {
    std::string path;
    ~RemoveScratch() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } removeScratch{scratchDirectory};

  auto resources = RocksDbResources::processWide();
  rocksdb::Options dbOptions =
      makeDatabaseOptions(*resources, int64_t{1} << 20, std::make_shared<ListAppendOperator>(), nullptr);
  dbOptions.create_if_missing = false;
  rocksdb::DB* raw = nullptr;
  SLUICE_RETURN_NOT_OK(fromRocksDb(rocksdb::DB::OpenForReadOnly(dbOptions, scratchDirectory, &raw),
                                   fmt::format("cannot open RocksDB state of checkpoint {}", manifest.checkpointId)));
  std::unique_ptr<rocksdb::DB> database(raw);
  StateCatalog catalog;
  SLUICE_RETURN_NOT_OK(loadStateTable(*database, catalog));

  std::string lower = layout::keyGroupStart(range.first);
  std::string upper = layout::keyGroupStart(range.last + 1);
  rocksdb::Slice upperSlice = toSlice(upper);
  rocksdb::ReadOptions scanOptions;
  scanOptions.total_order_seek = true;
  scanOptions.iterate_upper_bound = &upperSlice;
  scanOptions.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> iterator(database->NewIterator(scanOptions));
  for (iterator->Seek(toSlice(lower)); iterator->Valid(); iterator->Next()) {
    layout::DecodedKey decoded;
    if (!layout::decodeKey(toView(iterator->key()), &decoded)) return Status::corruption("stored state key is damaged");
    const StateInfo* info = catalog.find(decoded.state);
    if (info == nullptr) {
      return Status::corruption(fmt::format("stored entry of unknown state id {}", decoded.state));
    }
    SnapshotEntry entry;
    entry.stateName = info->name;
    entry.kind = info->kind;
    entry.keyGroup = decoded.keyGroup;
    entry.key = decoded.key;
    entry.userKey = decoded.userKey;
    std::string_view stored = toView(iterator->value());
    if (info->kind == StateKind::kList) {
      Status status;
      bool wellFormed = layout::forEachListElement(stored, [&](int64_t expiry, std::string_view element) {
        if (layout::isExpired(expiry, now)) return true;
        entry.expiry = expiry;
        entry.value = element;
        status = visit(entry);
        return status.ok();
      });
      SLUICE_RETURN_NOT_OK(status);
      if (!wellFormed) return Status::corruption("stored list state is damaged");
      continue;
    }
    if (!layout::decodeTimestamped(stored, &entry.expiry, &entry.value)) {
      return Status::corruption("stored state is damaged");
    }
    if (layout::isExpired(entry.expiry, now)) continue;
    SLUICE_RETURN_NOT_OK(visit(entry));
  }
  SLUICE_RETURN_NOT_OK(fromRocksDb(iterator->status(), "RocksDB snapshot scan failed"));
  iterator.reset();
  return fromRocksDb(database->Close(), "closing a restored RocksDB snapshot");
}

}  // namespace sluice
