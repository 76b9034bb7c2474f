// Key hashing and key-group assignment: fixed functions so that partitioning
// and state layout are the same in every build and on every machine.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/data/record_batch.h"

namespace sluice {

/// Default number of key groups (Flink's default max parallelism).
inline constexpr int kDefaultMaxParallelism = 128;

/// XXH3-64 (seed 0) of the key's bytes. Integers hash as their 8 little-endian
/// bytes, strings as their UTF-8 bytes, bools as one byte, floats as their IEEE
/// bits; a null hashes as zero bytes. Composite keys hash each part and combine.
uint64_t hashBytes(std::string_view bytes);

/// One hash per row over the key columns `keyColumns` of `batch`.
std::vector<uint64_t> hashKeys(const RecordBatch& batch, const std::vector<int>& keyColumns);

/// Key group of a key hash: hash % maxParallelism.
inline int keyGroupOf(uint64_t hash, int maxParallelism) {
  return static_cast<int>(hash % static_cast<uint64_t>(maxParallelism));
}

/// The subtask that owns key group `keyGroup`: keyGroup * parallelism / maxParallelism (as Flink).
inline int subtaskForKeyGroup(int keyGroup, int parallelism, int maxParallelism) {
  return static_cast<int>(static_cast<int64_t>(keyGroup) * parallelism / maxParallelism);
}

}  // namespace sluice
