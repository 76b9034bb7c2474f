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
inline constexpr uint16_t kControlProtocolVersion = 2;

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
  std::string restorePath;  // -s
  bool allowNonRestoredState = false;
  /// Plugin name → content hash of the library the client uploaded (set by the job manager).
  std::map<std::string, std::string> pluginHashes;
};
/// A plugin library: uploaded with a job (name = the job's plugin name), or
/// sent to a worker (name = its content hash).
struct PluginFile {
  std::string name;
  std::string content;
};
struct DeployTasks {
  std::string jobId;
  uint32_t attempt = 0;
  JobDefinition job;
  std::vector<Placement> placements;
  std::string restoreMetadata;  // `_metadata` path to restore from; empty = fresh start
  bool checkpointing = false;
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
  bool metricsOnly = false;                       // periodic metrics: never changes the task's state
  double backpressure = 0;                        // share of the last interval spent blocked on output
  std::map<std::string, std::string> watermarks;  // node id → last emitted watermark (decimal)
};
struct CancelJob {
  std::string jobId;
  uint32_t attempt = 0;
};
/// `stop --drain`: the sources of the attempt end their input, so every
/// event-time window fires and the job ends with a final checkpoint.
struct DrainSources {
  std::string jobId;
  uint32_t attempt = 0;
};
struct SubmitJob {
  JobDefinition job;
  std::vector<PluginFile> plugins;
};
struct FetchPlugin {
  std::string hash;
};
struct PluginContent {
  PluginFile plugin;
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
/// A task of a job attempt: its chain head node and subtask.
struct TaskRef {
  std::string node;
  uint32_t subtask = 0;
  auto operator<=>(const TaskRef&) const = default;
};
struct TriggerCheckpoint {
  std::string jobId;
  uint32_t attempt = 0;
  int64_t checkpointId = 0;
  int64_t timestampMs = 0;
  std::string directory;       // private files here, shared ones in directory/../shared
  std::vector<TaskRef> tasks;  // triggered directly; the others receive barriers
};
struct AcknowledgeCheckpoint {
  std::string jobId;
  uint32_t attempt = 0;
  int64_t checkpointId = 0;
  TaskRef task;
  std::string state;  // JSON task state handle
  bool finished = false;
  int64_t alignmentMs = 0;
  int64_t sizeBytes = 0;
  int64_t incrementalSizeBytes = 0;
  int64_t syncMs = 0;        // the synchronous snapshot part on the task thread
  int64_t asyncMs = 0;       // the asynchronous upload
  int64_t startDelayMs = 0;  // from the trigger to the first barrier at the task
};
struct DeclineCheckpoint {
  std::string jobId;
  uint32_t attempt = 0;
  int64_t checkpointId = 0;
  TaskRef task;
  std::string reason;
};
struct CheckpointComplete {
  std::string jobId;
  uint32_t attempt = 0;
  int64_t checkpointId = 0;
};
struct SavepointRequest {
  std::string jobId;
  std::string directory;
  bool stop = false;
  bool drain = false;
};

using ControlBody = std::variant<RegisterWorker, RegisterReply, Heartbeat, DeployTasks, TaskStateUpdate, CancelJob,
                                 SubmitJob, StatusRequest, ListRequest, CancelRequest, Reply, Disconnect,
                                 WorkersRequest, TriggerCheckpoint, AcknowledgeCheckpoint, DeclineCheckpoint,
                                 CheckpointComplete, SavepointRequest, FetchPlugin, PluginContent, DrainSources>;

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
