// How records of one stream are distributed over the subtasks that consume it.
#pragma once

#include <vector>

namespace sluice {

enum class PartitionKind {
  kForward,    // subtask i → subtask i (requires equal parallelism; else rebalance)
  kHash,       // key → key group → subtask (keyColumns of the input schema)
  kRebalance,  // round-robin batches
  kBroadcast,  // every batch to every subtask
};

struct InputPartitioning {
  PartitionKind kind = PartitionKind::kForward;
  std::vector<int> keyColumns;  // for kHash
};

}  // namespace sluice
