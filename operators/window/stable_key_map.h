// StableKeyMap: a hash map from string keys to values at stable addresses, for
// the window operators' key caches: an open-addressing slot table (hash bits +
// entry number, linear probing, backward-shift deletion) over chunked entry
// storage with a free list, with prefetch hooks for batched lookups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::window {

/// Hints the CPU to load the cache line of `address` (any address: a prefetch never faults). Inline
/// assembly on x86-64 because GCC 12 drops some `__builtin_prefetch` calls under a branch.
inline void prefetchForRead(const void* address) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 (%0)" : : "r"(address));
#else
  __builtin_prefetch(address);
#endif
}

/// The slot table of StableKeyMap: maps a 64-bit hash to entry numbers. Each
/// slot holds 32 bits of the hash (its home slot and a tag) and the entry
/// number; a slot table never holds more than half its slots, and erasing
/// shifts the following run back instead of leaving tombstones. Not
/// thread-safe.
class KeySlotTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  /// The hash bits a slot keeps (home slot and tag).
  static uint32_t hashBits(uint64_t hash) { return static_cast<uint32_t>(hash ^ (hash >> 32)); }

  /// The first entry with hash `hash` for which `matches(entry)` holds, or kNone.
  template <typename Matches>
  uint32_t find(uint64_t hash, Matches&& matches) const {
    if (slots_.empty()) return kNone;
    const uint32_t bits = hashBits(hash);
    for (size_t slot = bits & mask_;; slot = (slot + 1) & mask_) {
      const Slot& candidate = slots_[slot];
      if (candidate.entry == 0) return kNone;
      if (candidate.bits == bits && matches(candidate.entry - 1)) return candidate.entry - 1;
    }
  }
  /// The first entry whose slot has the hash bits of `hash` (maybe of another key), or kNone. For prefetching.
  uint32_t findCandidate(uint64_t hash) const {
    return find(hash, [](uint32_t) { return true; });
  }
  /// Hints the CPU to load the home slot of `hash`.
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) prefetchForRead(slots_.data() + (hashBits(hash) & mask_));
  }
  /// Adds `entry` under `hash`, growing the table when it would become more than half full.
  /// REQUIRES: `entry` < kNone and not in the table.
  void insert(uint64_t hash, uint32_t entry);
  /// Removes `entry`, which was inserted under `hash`. REQUIRES: it is in the table.
  void erase(uint64_t hash, uint32_t entry);
  void clear();
  size_t size() const { return size_; }
  size_t numSlots() const { return slots_.size(); }

 private:
  struct Slot {
    uint32_t bits = 0;
    uint32_t entry = 0;  // entry number + 1; 0: empty
  };
  void grow();
  void place(Slot slot);

  std::vector<Slot> slots_;  // size is zero or a power of two
  size_t mask_ = 0;
  size_t size_ = 0;
};

/// A map from string keys to `Value`s (default-constructible) whose entries
/// never move while they are in the map: pointers to an entry, its key and its
/// value stay valid until that entry is erased or the map cleared. Entries are
/// kept in chunks and reused after erasure; iteration (by entry number, see
/// entryAt) is deterministic for a given sequence of operations. Hashes are
/// `hashOf(key)`, which callers may compute once and pass to several calls.
/// Not thread-safe.
template <typename Value>
class StableKeyMap {
 public:
  struct Entry {
    uint64_t hash = 0;
    bool live = false;
    uint32_t number = 0;  // position in the map's storage (entryAt)
    std::string key;
    Value value{};
  };

  static uint64_t hashOf(std::string_view key) { return std::hash<std::string_view>()(key); }

  StableKeyMap() = default;
  StableKeyMap(const StableKeyMap&) = delete;
  StableKeyMap& operator=(const StableKeyMap&) = delete;

  size_t size() const { return slots_.size(); }
  bool empty() const { return size() == 0; }

  /// The entry of `key` (whose hash is `hash`), or null.
  Entry* find(std::string_view key, uint64_t hash) {
    const uint32_t number = slots_.find(hash, [&](uint32_t candidate) { return entry(candidate).key == key; });
    return number == KeySlotTable::kNone ? nullptr : &entry(number);
  }
  Entry* find(std::string_view key) { return find(key, hashOf(key)); }

  /// The entry of `key`, added with a default value when missing; `second` tells whether it was added.
  std::pair<Entry*, bool> tryEmplace(std::string_view key, uint64_t hash) {
    if (Entry* found = find(key, hash)) return {found, false};
    uint32_t number;
    if (!free_.empty()) {
      number = free_.back();
      free_.pop_back();
    } else {
      number = static_cast<uint32_t>(capacity_);
      if (number % kChunkSize == 0) chunks_.push_back(std::make_unique<Entry[]>(kChunkSize));
      ++capacity_;
    }
    Entry& added = entry(number);
    added.hash = hash;
    added.live = true;
    added.number = number;
    added.key.assign(key);
    slots_.insert(hash, number);
    return {&added, true};
  }
  std::pair<Entry*, bool> tryEmplace(std::string_view key) { return tryEmplace(key, hashOf(key)); }

  /// Removes `erased` (an entry of this map); its storage is reused by a later insertion.
  void erase(Entry* erased) {
    slots_.erase(erased->hash, erased->number);
    erased->live = false;
    erased->key.clear();
    erased->value = Value();
    free_.push_back(erased->number);
  }
  bool erase(std::string_view key) {
    Entry* found = find(key);
    if (found == nullptr) return false;
    erase(found);
    return true;
  }

  /// Removes every entry and releases the storage.
  void clear() {
    slots_.clear();
    chunks_.clear();
    free_.clear();
    capacity_ = 0;
  }

  /// Iteration: entry numbers run over [0, storageSize()); entryAt is null for a free number.
  /// Erasing entries during iteration is allowed (numbers do not change).
  size_t storageSize() const { return capacity_; }
  Entry* entryAt(size_t number) {
    Entry& candidate = entry(static_cast<uint32_t>(number));
    return candidate.live ? &candidate : nullptr;
  }
  /// Calls `visit(Entry&)` for every entry, in entry number order.
  template <typename Visit>
  void forEach(Visit&& visit) {
    for (size_t number = 0; number < capacity_; ++number) {
      if (Entry* live = entryAt(number)) visit(*live);
    }
  }

  /// Prefetch hooks for a batch of lookups: first the slot of a hash, a few lookups later its entry.
  void prefetchSlot(uint64_t hash) const { slots_.prefetch(hash); }
  /// The entry that probably holds the key of `hash` (null if none has its hash bits); its slot
  /// should have been prefetched. The caller may prefetch the entry and what its value points to.
  const Entry* candidate(uint64_t hash) const {
    const uint32_t number = slots_.findCandidate(hash);
    return number == KeySlotTable::kNone ? nullptr : &entry(number);
  }

 private:
  static constexpr uint32_t kChunkBits = 10;
  static constexpr uint32_t kChunkSize = uint32_t{1} << kChunkBits;

  Entry& entry(uint32_t number) const { return chunks_[number >> kChunkBits][number & (kChunkSize - 1)]; }

  KeySlotTable slots_;
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::vector<uint32_t> free_;  // erased entry numbers, reused last-in first-out
  size_t capacity_ = 0;         // entry numbers handed out so far
};

}  // namespace sluice::window
