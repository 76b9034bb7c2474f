// The byte layout of keyed state shared by both backends and their snapshots:
// how a StateKey becomes a sortable key and how values carry their TTL deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

namespace sluice::state_layout {

/// The two-byte key-group prefix reserved for backend metadata (the state
/// name table); real key groups are < kMaxStateMaxParallelism.
inline constexpr int kMetadataKeyGroup = 0xFFFF;
/// Expiry of an entry without TTL.
inline constexpr int64_t kNoExpiry = std::numeric_limits<int64_t>::max();

/// Appends `[keyGroup: 2 bytes BE][state: 2 bytes BE][key length: 4 bytes BE][key]`.
/// A map entry's full key continues with the user key; every entry of one
/// record key therefore shares this prefix, and a key group is one
/// contiguous byte range.
void appendKeyPrefix(std::string& out, int keyGroup, int state, std::string_view key);
/// The full key: the prefix plus `userKey`.
std::string encodeKey(int keyGroup, int state, std::string_view key, std::string_view userKey);
/// `[keyGroup][state]`: the prefix of every entry of `state` in `keyGroup`.
std::string stateInKeyGroupPrefix(int keyGroup, int state);
/// `[keyGroup]`: the first key of `keyGroup`.
std::string keyGroupStart(int keyGroup);
/// The key of the name-table row for state `name`.
std::string metadataKey(std::string_view name);
/// The name from a metadata key, or false when `encoded` is not one.
bool decodeMetadataKey(std::string_view encoded, std::string_view* name);

struct DecodedKey {
  int keyGroup = 0;
  int state = 0;
  std::string_view key;
  std::string_view userKey;
};
/// Splits an encoded key; false when it is malformed.
bool decodeKey(std::string_view encoded, DecodedKey* decoded);

/// The smallest string greater than every string starting with `prefix`
/// (empty when none exists, i.e. `prefix` is all 0xFF).
std::string prefixSuccessor(std::string_view prefix);

/// Appends `[expiry: 8 bytes BE][value]`: the stored form of a value or map entry.
void appendTimestamped(std::string& out, int64_t expiry, std::string_view value);
/// Splits a stored value; false when it is shorter than the expiry.
bool decodeTimestamped(std::string_view stored, int64_t* expiry, std::string_view* value);

/// Appends one list element: `[expiry: 8 bytes BE][length: 4 bytes BE][element]`.
/// A stored list is the concatenation of its elements, so appending is a
/// byte concatenation (RocksDB's merge operator does exactly that).
void appendListElement(std::string& out, int64_t expiry, std::string_view element);
/// Calls `visit` for each element in order until it returns false; false when
/// `stored` is malformed.
bool forEachListElement(std::string_view stored,
                        const std::function<bool(int64_t expiry, std::string_view element)>& visit);

/// The deadline of an entry written at `now` with `ttlMillis` (saturating); kNoExpiry when ttlMillis < 0.
int64_t expiryFor(int64_t now, int64_t ttlMillis);
/// True when an entry with deadline `expiry` must no longer be visible at `now` (as Flink: expiry <= now).
inline bool isExpired(int64_t expiry, int64_t now) { return expiry <= now; }

/// Fixed-width big-endian helpers.
void appendUInt16(std::string& out, uint16_t value);
void appendUInt32(std::string& out, uint32_t value);
void appendUInt64(std::string& out, uint64_t value);
uint16_t readUInt16(const char* data);
uint32_t readUInt32(const char* data);
uint64_t readUInt64(const char* data);

}  // namespace sluice::state_layout
