// The wall clock in milliseconds since the Unix epoch, as checkpoints, job records and TTLs store time.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

/// Milliseconds since the Unix epoch (system clock; may jump). Thread-safe.
inline int64_t wallClockMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sluice
