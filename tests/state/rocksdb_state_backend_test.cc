// RocksDB-specific behaviour: incremental snapshots with hard-linked shared
// SSTs, the copy fallback, the TTL compaction filter, and state larger than
// the block cache.
#include "runtime/state/rocksdb_state_backend.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "runtime/state/shared_state_registry.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

ino_t inodeOf(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

class RocksDbStateBackendTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksDbStateBackend> open(RocksDbBackendSettings settings = {}) {
    StateBackendOptions options;
    options.directory = temp_.file(fmt::format("work-{}", nextInstance_++));
    options.keyGroups = {0, 127};
    auto backend = RocksDbStateBackend::open(options, std::move(settings));
    EXPECT_TRUE(backend.ok()) << backend.status().toString();
    return backend.ok() ? std::move(backend).value() : nullptr;
  }

  // Writes `count` values of `valueSize` pseudo-random (incompressible) bytes; the first byte encodes `i`.
  static void fill(RocksDbStateBackend& backend, int state, int first, int count, size_t valueSize = 100) {
    std::string value(valueSize, 'v');
    uint64_t random = 0x9E3779B97F4A7C15ULL;
    for (int i = first; i < first + count; ++i) {
      std::string key = fmt::format("key-{:08}", i);
      for (char& byte : value) {
        random = random * 6364136223846793005ULL + 1442695040888963407ULL;
        byte = static_cast<char>(random >> 56);
      }
      value[0] = static_cast<char>('a' + i % 26);
      ASSERT_OK(backend.put({state, i % 128, key}, value));
    }
  }

  // The snapshot's shared files as absolute paths.
  std::set<std::string> sharedFiles(const StateSnapshot& snapshot) const {
    std::set<std::string> files;
    for (const std::string& file : snapshot.files) {
      if (file.starts_with("shared/")) files.insert(file);
    }
    return files;
  }

  testing::TempDir temp_;
  int nextInstance_ = 0;
};

TEST_F(RocksDbStateBackendTest, IncrementalSnapshotReusesUnchangedSstFiles) {
  auto backend = open();
  int state = *backend->registerState({"s", StateKind::kValue, {}});
  fill(*backend, state, 0, 20000);
  ASSERT_OK_AND_ASSIGN(StateSnapshot first, backend->snapshot(1, temp_.file("chk-1")));
  EXPECT_EQ(first.incrementalSizeBytes, first.sizeBytes);
  ASSERT_FALSE(sharedFiles(first).empty());
  ASSERT_OK(backend->notifyCheckpointComplete(1));

  ASSERT_OK(backend->put({state, 0, "one more"}, "x"));
  ASSERT_OK_AND_ASSIGN(StateSnapshot second, backend->snapshot(2, temp_.file("chk-2")));
  EXPECT_GT(second.sizeBytes, first.sizeBytes / 2);
  EXPECT_LT(second.incrementalSizeBytes, first.sizeBytes / 10)
      << second.incrementalSizeBytes << " of " << second.sizeBytes;
  std::set<std::string> reused;
  for (const std::string& file : sharedFiles(first)) {
    if (sharedFiles(second).contains(file)) reused.insert(file);
  }
  EXPECT_FALSE(reused.empty());

  // The shared file is a hard link of the live SST file: same inode.
  for (const std::string& file : reused) {
    std::string original = file.substr(file.rfind('-') + 1);  // "<random>-000012.sst" → "000012.sst"
    fs::path live = fs::path(backend->databaseDirectory()) / original;
    ASSERT_TRUE(fs::exists(live)) << live;
    EXPECT_EQ(inodeOf(temp_.path() / file), inodeOf(live)) << file;
  }

  // The incremental snapshot restores everything.
  StateBackendOptions options;
  options.directory = temp_.file("restored");
  options.keyGroups = {0, 127};
  ASSERT_OK_AND_ASSIGN(auto restored, RocksDbStateBackend::open(options));
  ASSERT_OK(restored->restore({second}, temp_.path().string()));
  int restoredState = *restored->registerState({"s", StateKind::kValue, {}});
  EXPECT_EQ(*restored->get({restoredState, 0, "one more"}), "x");
  EXPECT_EQ(restored->get({restoredState, 5, "key-00000005"})->value_or("").size(), 100u);

  // After a restore, the next snapshot of the restored instance reuses the restored files too.
  ASSERT_OK(restored->put({restoredState, 1, "after restore"}, "y"));
  ASSERT_OK_AND_ASSIGN(StateSnapshot third, restored->snapshot(3, temp_.file("chk-3")));
  EXPECT_LT(third.incrementalSizeBytes, third.sizeBytes / 10);
}

TEST_F(RocksDbStateBackendTest, OnlyConfirmedCheckpointsAreReused) {
  auto backend = open();
  int state = *backend->registerState({"s", StateKind::kValue, {}});
  fill(*backend, state, 0, 5000);
  ASSERT_OK_AND_ASSIGN(StateSnapshot first, backend->snapshot(1, temp_.file("chk-1")));
  // Checkpoint 1 never completes (it might be discarded), so checkpoint 2 writes its own files.
  ASSERT_OK_AND_ASSIGN(StateSnapshot second, backend->snapshot(2, temp_.file("chk-2")));
  EXPECT_EQ(second.incrementalSizeBytes, second.sizeBytes);
  for (const std::string& file : sharedFiles(second)) EXPECT_FALSE(sharedFiles(first).contains(file));
}

TEST_F(RocksDbStateBackendTest, HardLinkFailureFallsBackToCopy) {
  int attempts = 0;
  RocksDbBackendSettings settings;
  settings.hardLink = [&](const fs::path&, const fs::path&) {
    ++attempts;
    return std::make_error_code(std::errc::cross_device_link);
  };
  auto backend = open(settings);
  int state = *backend->registerState({"s", StateKind::kValue, {}});
  fill(*backend, state, 0, 3000);
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(1, temp_.file("chk-1")));
  EXPECT_GT(attempts, 0);
  for (const std::string& file : sharedFiles(snapshot)) {
    std::string original = file.substr(file.rfind('-') + 1);
    fs::path live = fs::path(backend->databaseDirectory()) / original;
    EXPECT_NE(inodeOf(temp_.path() / file), inodeOf(live));
    EXPECT_EQ(fs::hard_link_count(temp_.path() / file), 1u);
    EXPECT_EQ(fs::file_size(temp_.path() / file), fs::file_size(live));
  }

  // Restore links the other way; make that fail too.
  StateBackendOptions options;
  options.directory = temp_.file("restored");
  options.keyGroups = {0, 127};
  ASSERT_OK_AND_ASSIGN(auto restored, RocksDbStateBackend::open(options, settings));
  ASSERT_OK(restored->restore({snapshot}, temp_.path().string()));
  int restoredState = *restored->registerState({"s", StateKind::kValue, {}});
  EXPECT_TRUE(restored->get({restoredState, 7, "key-00000007"})->has_value());
}

TEST_F(RocksDbStateBackendTest, RegistryDeletesSharedFilesNoRetainedCheckpointUses) {
  auto backend = open();
  int state = *backend->registerState({"s", StateKind::kValue, {}});
  SharedStateRegistry registry(temp_.path().string());
  fill(*backend, state, 0, 5000);
  ASSERT_OK_AND_ASSIGN(StateSnapshot first, backend->snapshot(1, temp_.file("chk-1")));
  ASSERT_OK(registry.registerCheckpoint(1, {first}));
  ASSERT_OK(backend->notifyCheckpointComplete(1));
  // Rewrite everything and compact, so checkpoint 2 shares nothing with 1 ...
  fill(*backend, state, 0, 5000, 120);
  ASSERT_OK(backend->compactForTesting());
  ASSERT_OK_AND_ASSIGN(StateSnapshot second, backend->snapshot(2, temp_.file("chk-2")));
  ASSERT_OK(registry.registerCheckpoint(2, {second}));
  ASSERT_OK(backend->notifyCheckpointComplete(2));
  // ... and checkpoint 3 shares everything with 2.
  ASSERT_OK_AND_ASSIGN(StateSnapshot third, backend->snapshot(3, temp_.file("chk-3")));
  ASSERT_OK(registry.registerCheckpoint(3, {third}));
  EXPECT_EQ(sharedFiles(second), sharedFiles(third));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> deleted, registry.releaseCheckpoint(1));
  EXPECT_EQ(deleted.size(), first.files.size());  // nothing of checkpoint 1 is still used
  for (const std::string& file : first.files) EXPECT_FALSE(fs::exists(temp_.path() / file)) << file;

  ASSERT_OK_AND_ASSIGN(deleted, registry.releaseCheckpoint(2));
  for (const std::string& file : sharedFiles(second)) {
    EXPECT_TRUE(fs::exists(temp_.path() / file)) << file;  // checkpoint 3 still uses it
    EXPECT_EQ(registry.referenceCount(file), 1);
  }
  EXPECT_EQ(deleted.size(), second.files.size() - sharedFiles(second).size());

  // Checkpoint 3 is intact.
  StateBackendOptions options;
  options.directory = temp_.file("restored");
  options.keyGroups = {0, 127};
  ASSERT_OK_AND_ASSIGN(auto restored, RocksDbStateBackend::open(options));
  ASSERT_OK(restored->restore({third}, temp_.path().string()));
}

TEST_F(RocksDbStateBackendTest, CompactionFilterDropsExpiredEntries) {
  auto backend = open();
  backend->setCurrentTime(1000);
  int value = *backend->registerState({"value", StateKind::kValue, std::chrono::milliseconds(100)});
  int list = *backend->registerState({"list", StateKind::kList, std::chrono::milliseconds(100)});
  int kept = *backend->registerState({"kept", StateKind::kValue, {}});
  for (int i = 0; i < 100; ++i) {
    std::string key = fmt::format("k{}", i);
    ASSERT_OK(backend->put({value, i, key}, "v"));
    ASSERT_OK(backend->append({list, i, key}, "old"));
    ASSERT_OK(backend->put({kept, i, key}, "v"));
  }
  ASSERT_OK(backend->compactForTesting());
  backend->setCurrentTime(1050);
  ASSERT_OK(backend->append({list, 0, "k0"}, "new"));
  ASSERT_OK(backend->compactForTesting());
  ASSERT_OK_AND_ASSIGN(int64_t before, backend->countStoredEntriesForTesting());
  EXPECT_EQ(before, 300);

  backend->setCurrentTime(1100);
  ASSERT_OK(backend->compactForTesting());
  ASSERT_OK_AND_ASSIGN(int64_t after, backend->countStoredEntriesForTesting());
  EXPECT_EQ(after, 101);  // the unexpiring state plus the one list with a fresh element
  EXPECT_EQ(*backend->getList({list, 0, "k0"}), std::vector<std::string>{"new"});
}

TEST_F(RocksDbStateBackendTest, StateLargerThanTheBlockCache) {
  ASSERT_OK_AND_ASSIGN(
      auto resources,
      RocksDbResources::make({.blockCacheBytes = 512 << 10, .writeBufferBytes = 1 << 20, .backgroundThreads = 1}));
  RocksDbBackendSettings settings;
  settings.resources = resources;
  settings.writeBufferBytes = 1 << 20;
  auto backend = open(settings);
  int state = *backend->registerState({"big", StateKind::kValue, {}});
  constexpr int kEntries = 40000;  // 40 MB of 1 KB values against a 512 KB cache
  fill(*backend, state, 0, kEntries, 1024);
  for (int i = 0; i < kEntries; i += 997) {
    auto value = backend->get({state, i % 128, fmt::format("key-{:08}", i)});
    ASSERT_OK(value.status());
    ASSERT_TRUE(value->has_value()) << i;
    EXPECT_EQ((*value)->size(), 1024u);
    EXPECT_EQ((**value)[0], static_cast<char>('a' + i % 26));
  }
  int64_t scanned = 0;
  ASSERT_OK(backend->scanAll(state, [&](int, std::string_view, std::string_view, std::string_view value) {
    scanned += value.size() == 1024 ? 1 : 0;
    return true;
  }));
  EXPECT_EQ(scanned, kEntries);
  // Far below the 40 MB of data: cached blocks plus the memtables charged to the cache
  // (the cache may briefly exceed its capacity; it is not strict).
  EXPECT_LE(resources->blockCacheUsage(), int64_t{12} << 20);
}

// Buffered writes reach RocksDB sorted by key: a large buffer of puts and deletes as an ingested SST
// (one write per key kept), one with repeated merges to a key, and small ones, as a write batch. Every
// path must leave exactly the state a plain map of the same writes holds, also after a restore.
TEST_F(RocksDbStateBackendTest, BufferedWritesMatchAModelWhateverPathTheyTake) {
  RocksDbBackendSettings settings;
  settings.writeBufferBytes = 1 << 20;  // buffers of 512 KB
  auto backend = open(settings);
  int values = *backend->registerState({"values", StateKind::kValue, {}});
  int lists = *backend->registerState({"lists", StateKind::kList, {}});
  std::map<std::pair<int, std::string>, std::string> valueModel;
  std::map<std::pair<int, std::string>, std::vector<std::string>> listModel;
  uint64_t random = 42;
  auto next = [&random](uint64_t bound) {
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;
    return (random >> 33) % bound;
  };
  auto write = [&](int operations, bool withLists, int readEvery) {
    for (int i = 0; i < operations; ++i) {
      const int keyGroup = static_cast<int>(next(128));
      std::string key = fmt::format("k{}", next(3000));
      const uint64_t kind = next(withLists ? 5 : 3);
      if (kind == 0 || kind == 1) {
        std::string value = fmt::format("{}-{}", i, std::string(next(200), 'x'));
        ASSERT_OK(backend->put({values, keyGroup, key}, value));
        valueModel[{keyGroup, key}] = value;
      } else if (kind == 2) {
        ASSERT_OK(backend->remove({values, keyGroup, key}));
        valueModel.erase({keyGroup, key});
      } else if (kind == 3) {
        std::string element = fmt::format("e{}", i);
        ASSERT_OK(backend->append({lists, keyGroup, key}, element));
        listModel[{keyGroup, key}].push_back(element);
      } else {
        std::vector<std::string> elements{fmt::format("p{}", i)};
        ASSERT_OK(backend->putList({lists, keyGroup, key}, elements));
        listModel[{keyGroup, key}] = elements;
      }
      if (readEvery > 0 && i % readEvery == 0) {
        auto value = backend->get({values, keyGroup, key});
        ASSERT_OK(value.status());
        auto found = valueModel.find({keyGroup, key});
        EXPECT_EQ(value->has_value(), found != valueModel.end());
      }
    }
  };
  auto check = [&](KeyedStateBackend& state, int valueState, int listState) {
    for (int keyGroup = 0; keyGroup < 128; ++keyGroup) {
      for (int k = 0; k < 3000; k += 7) {
        std::string key = fmt::format("k{}", k);
        auto value = state.get({valueState, keyGroup, key});
        ASSERT_OK(value.status());
        auto expected = valueModel.find({keyGroup, key});
        ASSERT_EQ(value->has_value(), expected != valueModel.end()) << keyGroup << " " << key;
        if (value->has_value()) {
          EXPECT_EQ(**value, expected->second);
        }
        auto list = state.getList({listState, keyGroup, key});
        ASSERT_OK(list.status());
        auto expectedList = listModel.find({keyGroup, key});
        EXPECT_EQ(*list, expectedList == listModel.end() ? std::vector<std::string>{} : expectedList->second);
      }
    }
    int64_t stored = 0;
    ASSERT_OK(state.scanAll(valueState, [&](int, std::string_view, std::string_view, std::string_view) {
      ++stored;
      return true;
    }));
    EXPECT_EQ(stored, static_cast<int64_t>(valueModel.size()));
  };
  write(40000, false, 0);  // large buffers of puts and deletes, overwriting keys
  write(30000, true, 0);   // large buffers with repeated merges to a key
  write(5000, true, 50);   // small buffers between reads
  write(20000, false, 0);
  check(*backend, values, lists);

  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(1, temp_.file("chk-1")));
  StateBackendOptions options;
  options.directory = temp_.file("restored");
  options.keyGroups = {0, 127};
  ASSERT_OK_AND_ASSIGN(auto restored, RocksDbStateBackend::open(options));
  ASSERT_OK(restored->restore({snapshot}, temp_.path().string()));
  check(*restored, *restored->registerState({"values", StateKind::kValue, {}}),
        *restored->registerState({"lists", StateKind::kList, {}}));
}

TEST_F(RocksDbStateBackendTest, WorkingDirectoryIsRemovedWithTheBackend) {
  std::string database;
  {
    auto backend = open();
    database = backend->databaseDirectory();
    EXPECT_TRUE(fs::exists(database));
  }
  EXPECT_FALSE(fs::exists(database));
  StateBackendOptions options;
  options.keyGroups = {0, 1};
  EXPECT_EQ(RocksDbStateBackend::open(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
