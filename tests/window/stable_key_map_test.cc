// Tests of StableKeyMap and its KeySlotTable: insert, find and erase against a
// reference map (with colliding and wrapping hashes that exercise backward-shift
// deletion), growth, pointer stability, erasure during iteration and reuse.
#include "operators/window/stable_key_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "operators/window/row_groups.h"

namespace sluice::window {
namespace {

using Map = StableKeyMap<int>;

/// Hash choices for the reference test: the real hash, a few homes only, and
/// homes at the end of the table (runs wrap around to slot 0) at every size.
enum class HashKind { kReal, kFewHomes, kWrapping };

uint64_t hashFor(HashKind kind, int number, const std::string& key) {
  switch (kind) {
    case HashKind::kReal: return Map::hashOf(key);
    case HashKind::kFewHomes: return static_cast<uint64_t>(number % 5);
    case HashKind::kWrapping: return 0xFFFFFFFFu - static_cast<uint64_t>(number % 4);
  }
  return 0;
}

void expectMatches(Map& map, const std::map<int, int>& reference, HashKind kind, int numKeys) {
  ASSERT_EQ(map.size(), reference.size());
  for (int number = 0; number < numKeys; ++number) {
    const std::string key = "key-" + std::to_string(number);
    Map::Entry* entry = map.find(key, hashFor(kind, number, key));
    auto expected = reference.find(number);
    if (expected == reference.end()) {
      EXPECT_EQ(entry, nullptr) << key;
    } else {
      ASSERT_NE(entry, nullptr) << key;
      EXPECT_EQ(entry->key, key);
      EXPECT_EQ(entry->value, expected->second) << key;
    }
  }
}

TEST(StableKeyMapTest, RandomInsertsAndErasesMatchAReferenceMap) {
  for (HashKind kind : {HashKind::kReal, HashKind::kFewHomes, HashKind::kWrapping}) {
    SCOPED_TRACE(static_cast<int>(kind));
    const int numKeys = kind == HashKind::kReal ? 3000 : 300;
    Map map;
    std::map<int, int> reference;
    std::mt19937 random(42);
    for (int step = 0; step < 20000; ++step) {
      const int number = static_cast<int>(random() % static_cast<unsigned>(numKeys));
      const std::string key = "key-" + std::to_string(number);
      const uint64_t hash = hashFor(kind, number, key);
      if (random() % 3 == 0) {
        Map::Entry* entry = map.find(key, hash);
        ASSERT_EQ(entry != nullptr, reference.count(number) == 1) << key;
        if (entry != nullptr) map.erase(entry);
        reference.erase(number);
      } else {
        auto [entry, added] = map.tryEmplace(key, hash);
        ASSERT_EQ(added, reference.count(number) == 0) << key;
        if (added) {
          EXPECT_EQ(entry->value, 0);  // reused storage starts from a fresh value
        }
        entry->value = step;
        reference[number] = step;
      }
      if (step % 1000 == 0) expectMatches(map, reference, kind, numKeys);
    }
    expectMatches(map, reference, kind, numKeys);
  }
}

TEST(StableKeyMapTest, KeySlotTableBackwardShiftKeepsRunsReachable) {
  // Entries 0..5 in one table of 16 slots: homes 14, 14, 15, 15, 0, 14, so the run wraps around slot 0.
  KeySlotTable table;
  const std::vector<uint64_t> hashes = {14, 14, 15, 15, 0, 14};
  for (uint32_t entry = 0; entry < hashes.size(); ++entry) table.insert(hashes[entry], entry);
  ASSERT_EQ(table.numSlots(), 16u);
  std::set<uint32_t> present = {0, 1, 2, 3, 4, 5};
  auto expectPresent = [&] {
    EXPECT_EQ(table.size(), present.size());
    for (uint32_t entry = 0; entry < hashes.size(); ++entry) {
      const uint32_t found = table.find(hashes[entry], [&](uint32_t candidate) { return candidate == entry; });
      EXPECT_EQ(found, present.count(entry) == 1 ? entry : KeySlotTable::kNone) << "entry " << entry;
    }
  };
  expectPresent();
  // Erase from the head of the run (everything after shifts back across the wrap), the middle, the end.
  for (uint32_t erased : {0u, 3u, 5u, 1u, 4u, 2u}) {
    table.erase(hashes[erased], erased);
    present.erase(erased);
    expectPresent();
  }
  EXPECT_EQ(table.findCandidate(14), KeySlotTable::kNone);
}

TEST(StableKeyMapTest, GrowthAndReuseKeepEntriesInPlace) {
  Map map;
  std::vector<Map::Entry*> entries;
  std::vector<const std::string*> keys;
  for (int number = 0; number < 5000; ++number) {
    auto [entry, added] = map.tryEmplace("key-" + std::to_string(number));
    ASSERT_TRUE(added);
    entry->value = number;
    entries.push_back(entry);
    keys.push_back(&entry->key);
  }
  // Erase the odd ones and add as many new keys: they reuse the storage, the even ones stay put.
  for (int number = 1; number < 5000; number += 2) map.erase(entries[number]);
  EXPECT_EQ(map.size(), 2500u);
  for (int number = 5000; number < 7500; ++number)
    map.tryEmplace("key-" + std::to_string(number)).first->value = number;
  EXPECT_EQ(map.storageSize(), 5000u);
  for (int number = 0; number < 5000; number += 2) {
    const std::string key = "key-" + std::to_string(number);
    EXPECT_EQ(map.find(key), entries[number]);
    EXPECT_EQ(keys[number], &entries[number]->key);
    EXPECT_EQ(entries[number]->key, key);
    EXPECT_EQ(entries[number]->value, number);
  }
  for (int number = 1; number < 5000; number += 2) EXPECT_EQ(map.find("key-" + std::to_string(number)), nullptr);
  EXPECT_FALSE(map.erase("key-1"));
  EXPECT_TRUE(map.erase("key-5000"));
  EXPECT_EQ(map.size(), 4999u);
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find("key-0"), nullptr);
  EXPECT_TRUE(map.tryEmplace("key-0").second);
}

TEST(StableKeyMapTest, ErasingWhileIteratingVisitsEveryEntryOnce) {
  Map map;
  for (int number = 0; number < 3000; ++number) map.tryEmplace("key-" + std::to_string(number)).first->value = number;
  std::set<int> visited;
  for (size_t number = 0; number < map.storageSize(); ++number) {
    Map::Entry* entry = map.entryAt(number);
    if (entry == nullptr) continue;
    EXPECT_TRUE(visited.insert(entry->value).second);
    if (entry->value % 3 != 0) map.erase(entry);
  }
  EXPECT_EQ(visited.size(), 3000u);
  EXPECT_EQ(map.size(), 1000u);
  std::set<int> remaining;
  map.forEach([&](Map::Entry& entry) { remaining.insert(entry.value); });
  EXPECT_EQ(remaining.size(), 1000u);
  for (int value : remaining) EXPECT_EQ(value % 3, 0);
}

TEST(StableKeyMapTest, CandidateFindsTheEntryOfAPresentHash) {
  Map map;
  EXPECT_EQ(map.candidate(Map::hashOf("absent")), nullptr);
  map.prefetchSlot(Map::hashOf("absent"));  // allowed on an empty map
  Map::Entry* entry = map.tryEmplace("present").first;
  map.prefetchSlot(Map::hashOf("present"));
  EXPECT_EQ(map.candidate(Map::hashOf("present")), entry);
}

TEST(StableKeyMapTest, RowGroupsHashesKeysAsTheMapDoes) {
  // The window operator passes RowGroups' hashes to the key cache.
  RowGroups groups;
  groups.clear();
  groups.add("alpha", 0);
  groups.add(std::string_view("\0beta", 5), 1);
  groups.finish();
  for (size_t group = 0; group < groups.size(); ++group) {
    EXPECT_EQ(groups.hash(group), Map::hashOf(groups.key(group)));
  }
}

}  // namespace
}  // namespace sluice::window
