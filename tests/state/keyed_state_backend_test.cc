// The KeyedStateBackend contract, run against both backends (rocksdb, hashmap):
// value/list/map state, TTL, key-group isolation, snapshots, restore and rescaling.
#include "runtime/state/keyed_state_backend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "runtime/data/key_group.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kMaxParallelism = 128;

class KeyedStateBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<KeyedStateBackend> open(KeyGroupRange range, const std::string& type = "") {
    StateBackendOptions options;
    options.type = type.empty() ? GetParam() : type;
    options.directory = temp_.file(fmt::format("work-{}", nextInstance_++));
    options.keyGroups = range;
    options.maxParallelism = kMaxParallelism;
    auto backend = createKeyedStateBackend(options);
    EXPECT_TRUE(backend.ok()) << backend.status().toString();
    return backend.ok() ? std::move(backend).value() : nullptr;
  }
  std::unique_ptr<KeyedStateBackend> openAll() { return open({0, kMaxParallelism - 1}); }

  static int registerOrDie(KeyedStateBackend& backend, const std::string& name, StateKind kind,
                           std::optional<milliseconds> ttl = {}) {
    auto id = backend.registerState({name, kind, ttl});
    EXPECT_TRUE(id.ok()) << id.status().toString();
    return id.ok() ? *id : -1;
  }

  static std::optional<std::string> getOrDie(KeyedStateBackend& backend, const StateKey& key) {
    auto value = backend.get(key);
    EXPECT_TRUE(value.ok()) << value.status().toString();
    return value.ok() ? *value : std::nullopt;
  }

  static std::vector<std::string> listOrDie(KeyedStateBackend& backend, const StateKey& key) {
    auto list = backend.getList(key);
    EXPECT_TRUE(list.ok()) << list.status().toString();
    return list.ok() ? *list : std::vector<std::string>();
  }

  static std::vector<std::pair<std::string, std::string>> mapOrDie(KeyedStateBackend& backend, const StateKey& key) {
    std::vector<std::pair<std::string, std::string>> entries;
    EXPECT_OK(backend.scanMap(key, [&](std::string_view userKey, std::string_view value) {
      entries.emplace_back(userKey, value);
      return true;
    }));
    return entries;
  }

  testing::TempDir temp_;
  int nextInstance_ = 0;
};

TEST_P(KeyedStateBackendTest, ValuePutGetRemove) {
  auto backend = openAll();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->type(), GetParam());
  int counts = registerOrDie(*backend, "counts", StateKind::kValue);
  int sums = registerOrDie(*backend, "sums", StateKind::kValue);
  EXPECT_NE(counts, sums);
  ASSERT_OK_AND_ASSIGN(int again, backend->registerState({"counts", StateKind::kValue, {}}));
  EXPECT_EQ(again, counts);

  EXPECT_EQ(getOrDie(*backend, {counts, 5, "alice"}), std::nullopt);
  ASSERT_OK(backend->put({counts, 5, "alice"}, "1"));
  ASSERT_OK(backend->put({sums, 5, "alice"}, "100"));
  EXPECT_EQ(getOrDie(*backend, {counts, 5, "alice"}), "1");
  ASSERT_OK(backend->put({counts, 5, "alice"}, "2"));
  EXPECT_EQ(getOrDie(*backend, {counts, 5, "alice"}), "2");
  EXPECT_EQ(getOrDie(*backend, {sums, 5, "alice"}), "100");
  EXPECT_EQ(getOrDie(*backend, {counts, 5, "bob"}), std::nullopt);
  ASSERT_OK(backend->put({counts, 5, ""}, std::string("\0x", 2)));  // empty keys and binary values are fine
  EXPECT_EQ(getOrDie(*backend, {counts, 5, ""}), std::string("\0x", 2));

  ASSERT_OK(backend->remove({counts, 5, "alice"}));
  EXPECT_EQ(getOrDie(*backend, {counts, 5, "alice"}), std::nullopt);
  EXPECT_EQ(getOrDie(*backend, {sums, 5, "alice"}), "100");
  ASSERT_OK(backend->remove({counts, 5, "never-written"}));
}

TEST_P(KeyedStateBackendTest, ListAppendKeepsOrderAndPutListReplaces) {
  auto backend = openAll();
  int events = registerOrDie(*backend, "events", StateKind::kList);
  EXPECT_TRUE(listOrDie(*backend, {events, 3, "k"}).empty());
  for (int i = 0; i < 50; ++i) ASSERT_OK(backend->append({events, 3, "k"}, std::to_string(i)));
  ASSERT_OK(backend->append({events, 3, "other"}, "x"));
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(listOrDie(*backend, {events, 3, "k"}), expected);
  EXPECT_EQ(listOrDie(*backend, {events, 3, "other"}), std::vector<std::string>{"x"});

  ASSERT_OK(backend->putList({events, 3, "k"}, {"a", "", "c"}));
  ASSERT_OK(backend->append({events, 3, "k"}, "d"));
  EXPECT_EQ(listOrDie(*backend, {events, 3, "k"}), (std::vector<std::string>{"a", "", "c", "d"}));
  ASSERT_OK(backend->putList({events, 3, "k"}, {}));
  EXPECT_TRUE(listOrDie(*backend, {events, 3, "k"}).empty());
  ASSERT_OK(backend->append({events, 3, "k"}, "again"));
  ASSERT_OK(backend->remove({events, 3, "k"}));
  EXPECT_TRUE(listOrDie(*backend, {events, 3, "k"}).empty());
  EXPECT_EQ(listOrDie(*backend, {events, 3, "other"}), std::vector<std::string>{"x"});
}

TEST_P(KeyedStateBackendTest, MapEntriesIterateInUserKeyOrder) {
  auto backend = openAll();
  int map = registerOrDie(*backend, "map", StateKind::kMap);
  for (std::string userKey : {"m", "b", "z", "a", "bb", ""}) {
    ASSERT_OK(backend->put({map, 7, "key", userKey}, "v" + userKey));
  }
  // Neighbouring record keys must not leak into the scan.
  ASSERT_OK(backend->put({map, 7, "ke", "y"}, "other"));
  ASSERT_OK(backend->put({map, 7, "key2", "a"}, "other"));
  ASSERT_OK(backend->put({map, 8, "key", "a"}, "other"));

  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(mapOrDie(*backend, {map, 7, "key"}),
            (Entries{{"", "v"}, {"a", "va"}, {"b", "vb"}, {"bb", "vbb"}, {"m", "vm"}, {"z", "vz"}}));
  EXPECT_EQ(getOrDie(*backend, {map, 7, "key", "bb"}), "vbb");
  EXPECT_EQ(getOrDie(*backend, {map, 7, "key", "c"}), std::nullopt);

  ASSERT_OK(backend->put({map, 7, "key", "b"}, "new"));
  ASSERT_OK(backend->remove({map, 7, "key", "m"}));
  int visited = 0;
  ASSERT_OK(backend->scanMap({map, 7, "key"}, [&](std::string_view, std::string_view) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2);  // the visitor stopped the scan
  EXPECT_EQ(mapOrDie(*backend, {map, 7, "key"}),
            (Entries{{"", "v"}, {"a", "va"}, {"b", "new"}, {"bb", "vbb"}, {"z", "vz"}}));

  ASSERT_OK(backend->clear({map, 7, "key"}));
  EXPECT_TRUE(mapOrDie(*backend, {map, 7, "key"}).empty());
  EXPECT_EQ(mapOrDie(*backend, {map, 7, "key2"}), (Entries{{"a", "other"}}));
  EXPECT_EQ(mapOrDie(*backend, {map, 7, "ke"}), (Entries{{"y", "other"}}));
}

TEST_P(KeyedStateBackendTest, ScanAllVisitsEveryEntryOfOneState) {
  auto backend = open({10, 20});
  int values = registerOrDie(*backend, "values", StateKind::kValue);
  int lists = registerOrDie(*backend, "lists", StateKind::kList);
  int maps = registerOrDie(*backend, "maps", StateKind::kMap);
  std::multiset<std::string> expected;
  for (int keyGroup = 10; keyGroup <= 20; ++keyGroup) {
    for (int k = 0; k < 3; ++k) {
      std::string key = fmt::format("k{}", k);
      ASSERT_OK(backend->put({values, keyGroup, key}, "v"));
      ASSERT_OK(backend->append({lists, keyGroup, key}, "l1"));
      ASSERT_OK(backend->append({lists, keyGroup, key}, "l2"));
      ASSERT_OK(backend->put({maps, keyGroup, key, "u"}, "m"));
      expected.insert(fmt::format("{}/{}", keyGroup, key));
    }
  }
  std::multiset<std::string> seen;
  ASSERT_OK(backend->scanAll(values,
                             [&](int keyGroup, std::string_view key, std::string_view userKey, std::string_view value) {
                               EXPECT_TRUE(userKey.empty());
                               EXPECT_EQ(value, "v");
                               seen.insert(fmt::format("{}/{}", keyGroup, key));
                               return true;
                             }));
  EXPECT_EQ(seen, expected);

  std::map<std::string, std::vector<std::string>> listElements;
  ASSERT_OK(backend->scanAll(lists, [&](int keyGroup, std::string_view key, std::string_view, std::string_view value) {
    listElements[fmt::format("{}/{}", keyGroup, key)].emplace_back(value);
    return true;
  }));
  ASSERT_EQ(listElements.size(), expected.size());
  for (const auto& [key, elements] : listElements) EXPECT_EQ(elements, (std::vector<std::string>{"l1", "l2"})) << key;

  int mapEntries = 0;
  ASSERT_OK(backend->scanAll(maps, [&](int, std::string_view, std::string_view userKey, std::string_view value) {
    EXPECT_EQ(userKey, "u");
    EXPECT_EQ(value, "m");
    ++mapEntries;
    return true;
  }));
  EXPECT_EQ(mapEntries, static_cast<int>(expected.size()));

  int stoppedAfter = 0;
  ASSERT_OK(backend->scanAll(
      values, [&](int, std::string_view, std::string_view, std::string_view) { return ++stoppedAfter < 5; }));
  EXPECT_EQ(stoppedAfter, 5);
}

TEST_P(KeyedStateBackendTest, ExpiredEntriesAreNeverReturned) {
  auto backend = openAll();
  backend->setCurrentTime(1000);
  int value = registerOrDie(*backend, "value", StateKind::kValue, milliseconds(100));
  int list = registerOrDie(*backend, "list", StateKind::kList, milliseconds(100));
  int map = registerOrDie(*backend, "map", StateKind::kMap, milliseconds(100));
  int forever = registerOrDie(*backend, "forever", StateKind::kValue);
  ASSERT_OK(backend->put({value, 1, "k"}, "v"));
  ASSERT_OK(backend->append({list, 1, "k"}, "first"));
  ASSERT_OK(backend->put({map, 1, "k", "a"}, "old"));
  ASSERT_OK(backend->put({forever, 1, "k"}, "kept"));

  backend->setCurrentTime(1050);
  ASSERT_OK(backend->append({list, 1, "k"}, "second"));
  ASSERT_OK(backend->put({map, 1, "k", "b"}, "new"));

  backend->setCurrentTime(1099);  // just before the first deadline
  EXPECT_EQ(getOrDie(*backend, {value, 1, "k"}), "v");
  EXPECT_EQ(listOrDie(*backend, {list, 1, "k"}), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(mapOrDie(*backend, {map, 1, "k"}).size(), 2u);

  backend->setCurrentTime(1100);  // the deadline itself: expired
  EXPECT_EQ(getOrDie(*backend, {value, 1, "k"}), std::nullopt);
  EXPECT_EQ(listOrDie(*backend, {list, 1, "k"}), std::vector<std::string>{"second"});
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(mapOrDie(*backend, {map, 1, "k"}), (Entries{{"b", "new"}}));
  EXPECT_EQ(getOrDie(*backend, {map, 1, "k", "a"}), std::nullopt);
  int scanned = 0;
  ASSERT_OK(backend->scanAll(value, [&](int, std::string_view, std::string_view, std::string_view) {
    ++scanned;
    return true;
  }));
  EXPECT_EQ(scanned, 0);

  backend->setCurrentTime(1150);
  EXPECT_TRUE(listOrDie(*backend, {list, 1, "k"}).empty());
  EXPECT_TRUE(mapOrDie(*backend, {map, 1, "k"}).empty());
  EXPECT_EQ(getOrDie(*backend, {forever, 1, "k"}), "kept");

  // A write restarts the clock for that entry.
  ASSERT_OK(backend->put({value, 1, "k"}, "fresh"));
  backend->setCurrentTime(1249);
  EXPECT_EQ(getOrDie(*backend, {value, 1, "k"}), "fresh");
  backend->setCurrentTime(5000);
  EXPECT_EQ(getOrDie(*backend, {value, 1, "k"}), std::nullopt);
}

TEST_P(KeyedStateBackendTest, KeyGroupsAreIsolated) {
  auto backend = open({0, 63});
  int state = registerOrDie(*backend, "s", StateKind::kValue);
  ASSERT_OK(backend->put({state, 0, "k"}, "zero"));
  ASSERT_OK(backend->put({state, 63, "k"}, "last"));
  EXPECT_EQ(getOrDie(*backend, {state, 0, "k"}), "zero");
  EXPECT_EQ(getOrDie(*backend, {state, 63, "k"}), "last");
  EXPECT_EQ(getOrDie(*backend, {state, 1, "k"}), std::nullopt);

  Status outside = backend->put({state, 64, "k"}, "x");
  EXPECT_EQ(outside.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outside.message().find("key group 64"), std::string::npos) << outside.message();
  EXPECT_EQ(backend->get({state, -1, "k"}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(KeyedStateBackendTest, MisuseGivesClearErrors) {
  auto backend = openAll();
  int value = registerOrDie(*backend, "value", StateKind::kValue);
  int list = registerOrDie(*backend, "list", StateKind::kList);

  auto conflicting = backend->registerState({"value", StateKind::kMap, {}});
  EXPECT_EQ(conflicting.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conflicting.status().message().find("already registered as value state"), std::string::npos);
  EXPECT_EQ(backend->registerState({"", StateKind::kValue, {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->registerState({"ttl", StateKind::kValue, milliseconds(0)}).status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(backend->get({99, 0, "k"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->append({value, 0, "k"}, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->get({list, 0, "k"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->put({value, 0, "k", "user"}, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->scanMap({value, 0, "k"}, [](auto, auto) { return true; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->scanAll(42, [](auto, auto, auto, auto) { return true; }).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->restore({}, temp_.path().string()).code(), StatusCode::kInvalidArgument);

  StateBackendOptions options;
  options.type = "nosuch";
  options.directory = temp_.file("x");
  options.keyGroups = {0, 1};
  auto unknown = createKeyedStateBackend(options);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("nosuch"), std::string::npos);
  options.type = GetParam();
  options.keyGroups = {0, 128};
  EXPECT_EQ(createKeyedStateBackend(options).status().code(), StatusCode::kInvalidArgument);
  options.keyGroups = {5, 4};
  EXPECT_EQ(createKeyedStateBackend(options).status().code(), StatusCode::kInvalidArgument);
}

// Writes one value, one list and one map entry per key, each into the key group
// hashBytes(key) assigns, into whichever of `backends` owns that group.
void writeKeys(const std::vector<KeyedStateBackend*>& backends, int first, int count) {
  for (KeyedStateBackend* backend : backends) {
    ASSERT_OK(backend->registerState({"value", StateKind::kValue, {}}).status());
    ASSERT_OK(backend->registerState({"list", StateKind::kList, {}}).status());
    ASSERT_OK(backend->registerState({"map", StateKind::kMap, {}}).status());
  }
  for (int i = first; i < first + count; ++i) {
    std::string key = fmt::format("key-{}", i);
    int keyGroup = keyGroupOf(hashBytes(key), kMaxParallelism);
    KeyedStateBackend* owner = nullptr;
    for (KeyedStateBackend* backend : backends) {
      if (backend->keyGroups().contains(keyGroup)) owner = backend;
    }
    ASSERT_NE(owner, nullptr);
    // Ids may differ per backend; look them up by name.
    int value = *owner->registerState({"value", StateKind::kValue, {}});
    int list = *owner->registerState({"list", StateKind::kList, {}});
    int map = *owner->registerState({"map", StateKind::kMap, {}});
    ASSERT_OK(owner->put({value, keyGroup, key}, fmt::format("v{}", i)));
    ASSERT_OK(owner->append({list, keyGroup, key}, "a"));
    ASSERT_OK(owner->append({list, keyGroup, key}, fmt::format("b{}", i)));
    ASSERT_OK(owner->put({map, keyGroup, key, "u1"}, "x"));
    ASSERT_OK(owner->put({map, keyGroup, key, "u2"}, fmt::format("y{}", i)));
  }
}

// Checks that every key of [0, count) is on exactly the backend owning its key group, with all its state.
void expectKeys(const std::vector<KeyedStateBackend*>& backends, int count) {
  int64_t totalValues = 0;
  for (KeyedStateBackend* backend : backends) {
    int value = *backend->registerState({"value", StateKind::kValue, {}});
    int list = *backend->registerState({"list", StateKind::kList, {}});
    int map = *backend->registerState({"map", StateKind::kMap, {}});
    ASSERT_OK(backend->scanAll(value, [&](int keyGroup, std::string_view key, std::string_view, std::string_view) {
      EXPECT_EQ(keyGroup, keyGroupOf(hashBytes(key), kMaxParallelism)) << key;
      EXPECT_TRUE(backend->keyGroups().contains(keyGroup));
      ++totalValues;
      return true;
    }));
    for (int i = 0; i < count; ++i) {
      std::string key = fmt::format("key-{}", i);
      int keyGroup = keyGroupOf(hashBytes(key), kMaxParallelism);
      if (!backend->keyGroups().contains(keyGroup)) continue;
      auto got = backend->get({value, keyGroup, key});
      ASSERT_OK(got.status());
      EXPECT_EQ(*got, fmt::format("v{}", i)) << key;
      auto elements = backend->getList({list, keyGroup, key});
      ASSERT_OK(elements.status());
      EXPECT_EQ(*elements, (std::vector<std::string>{"a", fmt::format("b{}", i)})) << key;
      auto entry = backend->get({map, keyGroup, key, "u2"});
      ASSERT_OK(entry.status());
      EXPECT_EQ(*entry, fmt::format("y{}", i)) << key;
    }
  }
  EXPECT_EQ(totalValues, count);
}

TEST_P(KeyedStateBackendTest, SnapshotRestoresIntoNewInstance) {
  auto backend = openAll();
  backend->setCurrentTime(1000);
  writeKeys({backend.get()}, 0, 200);
  int ttl = registerOrDie(*backend, "ttl", StateKind::kValue, milliseconds(500));
  ASSERT_OK(backend->put({ttl, 3, "k"}, "expires at 1500"));
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(1, temp_.file("chk-1")));
  EXPECT_EQ(snapshot.backendType, GetParam());
  EXPECT_EQ(snapshot.keyGroups, (KeyGroupRange{0, 127}));
  EXPECT_GT(snapshot.sizeBytes, 0);
  for (const std::string& file : snapshot.files) EXPECT_TRUE(fs::exists(temp_.path() / file)) << file;

  // Later writes are not part of the snapshot.
  int value = registerOrDie(*backend, "value", StateKind::kValue);
  ASSERT_OK(backend->put({value, 0, "late"}, "x"));

  auto restored = openAll();
  restored->setCurrentTime(1400);
  ASSERT_OK(restored->restore({snapshot}, temp_.path().string()));
  // Registering in another order must still find each state by name.
  int ttlAgain = registerOrDie(*restored, "ttl", StateKind::kValue, milliseconds(500));
  expectKeys({restored.get()}, 200);
  int restoredValue = registerOrDie(*restored, "value", StateKind::kValue);
  EXPECT_EQ(getOrDie(*restored, {restoredValue, 0, "late"}), std::nullopt);
  EXPECT_EQ(getOrDie(*restored, {ttlAgain, 3, "k"}), "expires at 1500");
  restored->setCurrentTime(1500);
  EXPECT_EQ(getOrDie(*restored, {ttlAgain, 3, "k"}), std::nullopt);

  // The restored instance keeps working and snapshots again.
  ASSERT_OK(restored->put({restoredValue, 0, "after"}, "y"));
  ASSERT_OK_AND_ASSIGN(StateSnapshot second, restored->snapshot(2, temp_.file("chk-2")));
  auto third = openAll();
  ASSERT_OK(third->restore({second}, temp_.path().string()));
  int thirdValue = registerOrDie(*third, "value", StateKind::kValue);
  EXPECT_EQ(getOrDie(*third, {thirdValue, 0, "after"}), "y");
}

// The asynchronous snapshot contract: the upload writes the state as it was at
// beginSnapshot, although the backend changes (and RocksDB flushes and
// compacts) while it runs on another thread.
TEST_P(KeyedStateBackendTest, UploadOnAnotherThreadSeesTheStateAtTheCut) {
  auto backend = openAll();
  int value = registerOrDie(*backend, "value", StateKind::kValue);
  for (int i = 0; i < 2000; ++i) ASSERT_OK(backend->put({value, i % kMaxParallelism, fmt::format("k{}", i)}, "old"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotUpload> upload, backend->beginSnapshot(1, temp_.file("chk-1")));

  // After the cut: overwrite every key, delete some, add new ones, and force
  // RocksDB to write and merge new files, while the upload runs elsewhere.
  Result<StateSnapshot> uploaded = Status::internal("upload did not run");
  std::thread uploader([&] { uploaded = upload->run(); });
  for (int i = 0; i < 2000; ++i) {
    const std::string name = fmt::format("k{}", i);  // StateKey views it
    StateKey key{value, i % kMaxParallelism, name};
    ASSERT_OK(i % 3 == 0 ? backend->remove(key) : backend->put(key, "new"));
    ASSERT_OK(backend->put({value, i % kMaxParallelism, fmt::format("late{}", i)}, "late"));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SnapshotUpload> interim, backend->beginSnapshot(2, temp_.file("chk-2")));
  uploader.join();
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, std::move(uploaded));
  upload.reset();
  interim.reset();  // an upload that never runs releases what it pinned

  auto restored = openAll();
  ASSERT_OK(restored->restore({snapshot}, temp_.path().string()));
  int restoredValue = registerOrDie(*restored, "value", StateKind::kValue);
  int64_t entries = 0;
  ASSERT_OK(restored->scanAll(restoredValue, [&](int, std::string_view key, std::string_view, std::string_view stored) {
    EXPECT_EQ(stored, "old") << key;
    ++entries;
    return true;
  }));
  EXPECT_EQ(entries, 2000);

  // The backend keeps working and its next snapshot holds the new state.
  ASSERT_OK_AND_ASSIGN(StateSnapshot next, backend->snapshot(3, temp_.file("chk-3")));
  auto third = openAll();
  ASSERT_OK(third->restore({next}, temp_.path().string()));
  int thirdValue = registerOrDie(*third, "value", StateKind::kValue);
  EXPECT_EQ(getOrDie(*third, {thirdValue, 1, "k1"}), "new");
  EXPECT_EQ(getOrDie(*third, {thirdValue, 0, "k0"}), std::nullopt);
  EXPECT_EQ(getOrDie(*third, {thirdValue, 5, "late5"}), "late");
}

// Snapshots `fromParallelism` subtasks holding `count` keys, restores them into
// `toParallelism` subtasks (each given every snapshot) and checks the result.
void rescale(KeyedStateBackendTest& test, int fromParallelism, int toParallelism,
             const std::function<std::unique_ptr<KeyedStateBackend>(KeyGroupRange)>& open, const std::string& root) {
  constexpr int kKeys = 400;
  std::vector<std::unique_ptr<KeyedStateBackend>> before;
  std::vector<KeyedStateBackend*> beforePointers;
  for (int subtask = 0; subtask < fromParallelism; ++subtask) {
    before.push_back(open(KeyGroupRange::forSubtask(subtask, fromParallelism, kMaxParallelism)));
    beforePointers.push_back(before.back().get());
  }
  writeKeys(beforePointers, 0, kKeys);
  std::vector<StateSnapshot> snapshots;
  for (auto& backend : before) {
    auto snapshot = backend->snapshot(7, (std::filesystem::path(root) / "chk-7").string());
    ASSERT_OK(snapshot.status());
    snapshots.push_back(*snapshot);
  }
  before.clear();

  std::vector<std::unique_ptr<KeyedStateBackend>> after;
  std::vector<KeyedStateBackend*> afterPointers;
  for (int subtask = 0; subtask < toParallelism; ++subtask) {
    after.push_back(open(KeyGroupRange::forSubtask(subtask, toParallelism, kMaxParallelism)));
    ASSERT_OK(after.back()->restore(snapshots, root));
    afterPointers.push_back(after.back().get());
  }
  expectKeys(afterPointers, kKeys);
  (void)test;
}

TEST_P(KeyedStateBackendTest, RescaleOneToThree) {
  rescale(
      *this, 1, 3, [&](KeyGroupRange range) { return open(range); }, temp_.path().string());
}

TEST_P(KeyedStateBackendTest, RescaleThreeToOne) {
  rescale(
      *this, 3, 1, [&](KeyGroupRange range) { return open(range); }, temp_.path().string());
}

TEST_P(KeyedStateBackendTest, RescaleTwoToThree) {
  rescale(
      *this, 2, 3, [&](KeyGroupRange range) { return open(range); }, temp_.path().string());
}

TEST_P(KeyedStateBackendTest, RestoresSnapshotOfTheOtherBackendType) {
  std::string other = GetParam() == "rocksdb" ? "hashmap" : "rocksdb";
  auto source = open({0, 127}, other);
  writeKeys({source.get()}, 0, 100);
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, source->snapshot(3, temp_.file("chk-3")));
  auto restored = open({64, 127});
  ASSERT_OK(restored->restore({snapshot}, temp_.path().string()));
  auto low = open({0, 63});
  ASSERT_OK(low->restore({snapshot}, temp_.path().string()));
  expectKeys({low.get(), restored.get()}, 100);
}

TEST_P(KeyedStateBackendTest, DamagedSnapshotsGiveClearErrors) {
  auto backend = openAll();
  writeKeys({backend.get()}, 0, 50);
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(4, temp_.file("chk-4")));
  std::string root = temp_.path().string();

  // Missing file.
  fs::path victim = temp_.path() / snapshot.files.back();
  fs::path moved = victim;
  moved += ".moved";
  fs::rename(victim, moved);
  auto missing = openAll();
  Status status = missing->restore({snapshot}, root);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.toString();
  EXPECT_NE(status.message().find(snapshot.files.back()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("checkpoint 4"), std::string::npos) << status.message();
  fs::rename(moved, victim);

  // Truncated file.
  fs::path first = temp_.path() / snapshot.files.front();
  auto size = fs::file_size(first);
  fs::copy_file(first, moved);
  fs::remove(first);  // break a hard link so the live database is untouched
  fs::rename(moved, first);
  fs::resize_file(first, size / 2);
  auto truncated = openAll();
  status = truncated->restore({snapshot}, root);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.toString();
  EXPECT_NE(status.message().find(snapshot.files.front()), std::string::npos) << status.message();

  // Garbage metadata.
  StateSnapshot garbled = snapshot;
  garbled.metadata = "not a snapshot";
  status = openAll()->restore({garbled}, root);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.toString();

  // Another max parallelism.
  StateBackendOptions options;
  options.type = GetParam();
  options.directory = temp_.file("other-max");
  options.keyGroups = {0, 255};
  options.maxParallelism = 256;
  ASSERT_OK_AND_ASSIGN(auto wider, createKeyedStateBackend(options));
  status = wider->restore({snapshot}, root);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.toString();
  EXPECT_NE(status.message().find("max parallelism"), std::string::npos);
}

TEST_P(KeyedStateBackendTest, CorruptContentsWithRightSizeGiveErrorNotCrash) {
  auto backend = openAll();
  writeKeys({backend.get()}, 0, 50);
  ASSERT_OK_AND_ASSIGN(StateSnapshot snapshot, backend->snapshot(5, temp_.file("chk-5")));
  // Overwrite every file with same-sized garbage.
  for (const std::string& file : snapshot.files) {
    fs::path path = temp_.path() / file;
    auto size = fs::file_size(path);
    fs::remove(path);  // break hard links so the live database is untouched
    std::ofstream out(path, std::ios::binary);
    out << std::string(size, 'x');
  }
  auto restored = openAll();
  Status status = restored->restore({snapshot}, temp_.path().string());
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.code() == StatusCode::kCorruption || status.code() == StatusCode::kIOError) << status.toString();
  EXPECT_NE(status.message().find("checkpoint 5"), std::string::npos) << status.message();
  // The backend is still usable (empty) after a failed restore.
  int state = registerOrDie(*restored, "fresh", StateKind::kValue);
  ASSERT_OK(restored->put({state, 1, "k"}, "v"));
  EXPECT_EQ(getOrDie(*restored, {state, 1, "k"}), "v");
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyedStateBackendTest, ::testing::Values("rocksdb", "hashmap"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace sluice
