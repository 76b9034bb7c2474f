// Named fault-injection points for deterministic recovery tests. Inactive
// (one relaxed load) unless SLUICE_FAULT_INJECTION is set in the environment.
#pragma once

#include <string_view>

#include "runtime/base/status.h"

namespace sluice {

/// `SLUICE_FAULT_INJECTION=<point>:<action>[:<skip>]`, e.g.
/// `after-checkpoint-ack:kill:3` kills the process (SIGKILL) the 4th time the
/// point `after-checkpoint-ack` is reached; action `fail` returns an Internal
/// error from the point instead; action `stall` blocks the calling thread for
/// 4 s once (a slow disk, a long pause), then goes on. Points in the engine:
///   before-snapshot, after-snapshot-sync (task thread, the synchronous part),
///   during-snapshot-upload, after-snapshot-files, after-checkpoint-ack (the
///   worker's upload thread; `fail` there declines the checkpoint, except
///   after the acknowledgement),
///   before-metadata-write, after-metadata-write (job manager side).
/// Thread-safe.
Status faultPoint(std::string_view point);

}  // namespace sluice
