// Control messages between job manager, workers and clients as plain C++ values,
// and their Cap'n Proto encoding. Decoding validates everything at this one place.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "runtime/base/result.h"

namespace sluice::transport {

/// Bumped whenever a control message changes incompatibly.
inline constexpr uint16_t kControlProtocolVersion = 1;

struct RegisterWorker {
  std::string workerId;
  uint32_t slots = 0;
  std::string dataEndpoint;
};
struct RegisterReply {
  bool accepted = false;
  std::string error;
  uint32_t heartbeatIntervalMs = 1000;
};
struct Heartbeat {
  std::string workerId;
};
struct Placement {
  std::string node;
  uint32_t subtask = 0;
  std::string workerId;
  std::string dataEndpoint;
};
/// A job as submitted: the job file's text plus the command line's settings.
struct JobDefinition {
  std::string jobText;
  std::string jobPath;
  std::map<std::string, std::string> parameters;
  std::map<std::string, std::string> properties;
  int32_t parallelism = 0;  // 0 = not given
  std::string workingDirectory;
};
struct DeployTasks {
  std::string jobId;
  uint32_t attempt = 0;
  JobDefinition job;
  std::vector<Placement> placements;
};
struct TaskStateUpdate {
  std::string jobId;
  uint32_t attempt = 0;
  std::string node;
  uint32_t subtask = 0;
  std::string state;
  std::string error;
  int64_t recordsIn = 0;
  int64_t recordsOut = 0;
  std::string workerId;
};
struct CancelJob {
  std::string jobId;
  uint32_t attempt = 0;
};
struct SubmitJob {
  JobDefinition job;
};
struct StatusRequest {
  std::string jobId;
};
struct ListRequest {};
struct CancelRequest {
  std::string jobId;
};
struct Reply {
  bool ok = false;
  std::string error;
  std::string payload;
};
struct Disconnect {
  std::string workerId;
};
struct WorkersRequest {};

using ControlBody =
    std::variant<RegisterWorker, RegisterReply, Heartbeat, DeployTasks, TaskStateUpdate, CancelJob, SubmitJob,
                 StatusRequest, ListRequest, CancelRequest, Reply, Disconnect, WorkersRequest>;

struct ControlMessage {
  uint64_t requestId = 0;
  ControlBody body;
};

/// Encodes a control message as a flat Cap'n Proto message.
std::string encodeControl(const ControlMessage& message);

/// Decodes and validates; a malformed message or another protocol version is an
/// error with a one-line reason.
Result<ControlMessage> decodeControl(const void* data, size_t size);

}  // namespace sluice::transport
