#include "runtime/transport/control_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "transport_wire/control.capnp.h"

namespace sluice::transport {
namespace {

template <typename Builder>
void writeMap(const std::map<std::string, std::string>& values, Builder list) {
  size_t i = 0;
  for (const auto& [key, value] : values) {
    list[i].setKey(key);
    list[i].setValue(value);
    ++i;
  }
}

void writeJob(const JobDefinition& job, wire::JobDefinition::Builder out) {
  out.setJobText(job.jobText);
  out.setJobPath(job.jobPath);
  writeMap(job.parameters, out.initParameters(static_cast<unsigned>(job.parameters.size())));
  writeMap(job.properties, out.initProperties(static_cast<unsigned>(job.properties.size())));
  out.setParallelism(job.parallelism);
  out.setWorkingDirectory(job.workingDirectory);
  out.setRestorePath(job.restorePath);
  out.setAllowNonRestoredState(job.allowNonRestoredState);
  writeMap(job.pluginHashes, out.initPluginHashes(static_cast<unsigned>(job.pluginHashes.size())));
}

void writePlugin(const PluginFile& plugin, wire::PluginFile::Builder out) {
  out.setName(plugin.name);
  out.setContent(kj::arrayPtr(reinterpret_cast<const kj::byte*>(plugin.content.data()), plugin.content.size()));
}

PluginFile readPlugin(wire::PluginFile::Reader in) {
  auto content = in.getContent();
  return PluginFile{in.getName().cStr(), std::string(reinterpret_cast<const char*>(content.begin()), content.size())};
}

template <typename Reader>
std::map<std::string, std::string> readMap(Reader list) {
  std::map<std::string, std::string> out;
  for (auto entry : list) out[entry.getKey().cStr()] = entry.getValue().cStr();
  return out;
}

JobDefinition readJob(wire::JobDefinition::Reader in) {
  JobDefinition job;
  job.jobText = in.getJobText().cStr();
  job.jobPath = in.getJobPath().cStr();
  job.parameters = readMap(in.getParameters());
  job.properties = readMap(in.getProperties());
  job.parallelism = in.getParallelism();
  job.workingDirectory = in.getWorkingDirectory().cStr();
  job.restorePath = in.getRestorePath().cStr();
  job.allowNonRestoredState = in.getAllowNonRestoredState();
  job.pluginHashes = readMap(in.getPluginHashes());
  return job;
}

void writeTask(const TaskRef& task, wire::TaskRef::Builder out) {
  out.setNode(task.node);
  out.setSubtask(task.subtask);
}

TaskRef readTask(wire::TaskRef::Reader in) { return TaskRef{in.getNode().cStr(), in.getSubtask()}; }

struct Writer {
  wire::ControlEnvelope::Body::Builder body;
  void operator()(const RegisterWorker& value) {
    auto out = body.initRegisterWorker();
    out.setWorkerId(value.workerId);
    out.setSlots(value.slots);
    out.setDataEndpoint(value.dataEndpoint);
  }
  void operator()(const RegisterReply& value) {
    auto out = body.initRegisterReply();
    out.setAccepted(value.accepted);
    out.setError(value.error);
    out.setHeartbeatIntervalMs(value.heartbeatIntervalMs);
  }
  void operator()(const Heartbeat& value) { body.initHeartbeat().setWorkerId(value.workerId); }
  void operator()(const DeployTasks& value) {
    auto out = body.initDeployTasks();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    writeJob(value.job, out.initJob());
    auto placements = out.initPlacements(static_cast<unsigned>(value.placements.size()));
    for (size_t i = 0; i < value.placements.size(); ++i) {
      placements[i].setNode(value.placements[i].node);
      placements[i].setSubtask(value.placements[i].subtask);
      placements[i].setWorkerId(value.placements[i].workerId);
      placements[i].setDataEndpoint(value.placements[i].dataEndpoint);
    }
    out.setRestoreMetadata(value.restoreMetadata);
    out.setCheckpointing(value.checkpointing);
  }
  void operator()(const TaskStateUpdate& value) {
    auto out = body.initTaskState();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    out.setNode(value.node);
    out.setSubtask(value.subtask);
    out.setState(value.state);
    out.setError(value.error);
    out.setRecordsIn(value.recordsIn);
    out.setRecordsOut(value.recordsOut);
    out.setWorkerId(value.workerId);
    out.setMetricsOnly(value.metricsOnly);
    out.setBackpressure(value.backpressure);
    writeMap(value.watermarks, out.initWatermarks(static_cast<unsigned>(value.watermarks.size())));
  }
  void operator()(const CancelJob& value) {
    auto out = body.initCancelJob();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
  }
  void operator()(const DrainSources& value) {
    auto out = body.initDrainSources();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
  }
  void operator()(const SubmitJob& value) {
    auto out = body.initSubmitJob();
    writeJob(value.job, out.initJob());
    auto plugins = out.initPlugins(static_cast<unsigned>(value.plugins.size()));
    for (size_t i = 0; i < value.plugins.size(); ++i) writePlugin(value.plugins[i], plugins[i]);
  }
  void operator()(const FetchPlugin& value) { body.setFetchPlugin(value.hash); }
  void operator()(const PluginContent& value) { writePlugin(value.plugin, body.initPluginContent()); }
  void operator()(const StatusRequest& value) { body.initStatusRequest().setJobId(value.jobId); }
  void operator()(const ListRequest&) { body.setListRequest(); }
  void operator()(const CancelRequest& value) { body.initCancelRequest().setJobId(value.jobId); }
  void operator()(const Reply& value) {
    auto out = body.initReply();
    out.setOk(value.ok);
    out.setError(value.error);
    out.setPayload(value.payload);
  }
  void operator()(const Disconnect& value) { body.setDisconnect(value.workerId); }
  void operator()(const WorkersRequest&) { body.setWorkersRequest(); }
  void operator()(const TriggerCheckpoint& value) {
    auto out = body.initTriggerCheckpoint();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    out.setCheckpointId(value.checkpointId);
    out.setTimestampMs(value.timestampMs);
    out.setDirectory(value.directory);
    auto tasks = out.initTasks(static_cast<unsigned>(value.tasks.size()));
    for (size_t i = 0; i < value.tasks.size(); ++i) writeTask(value.tasks[i], tasks[i]);
  }
  void operator()(const AcknowledgeCheckpoint& value) {
    auto out = body.initAcknowledgeCheckpoint();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    out.setCheckpointId(value.checkpointId);
    writeTask(value.task, out.initTask());
    out.setState(value.state);
    out.setFinished(value.finished);
    out.setAlignmentMs(value.alignmentMs);
    out.setSizeBytes(value.sizeBytes);
    out.setIncrementalSizeBytes(value.incrementalSizeBytes);
    out.setSyncMs(value.syncMs);
    out.setAsyncMs(value.asyncMs);
    out.setStartDelayMs(value.startDelayMs);
  }
  void operator()(const DeclineCheckpoint& value) {
    auto out = body.initDeclineCheckpoint();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    out.setCheckpointId(value.checkpointId);
    writeTask(value.task, out.initTask());
    out.setReason(value.reason);
  }
  void operator()(const CheckpointComplete& value) {
    auto out = body.initCheckpointComplete();
    out.setJobId(value.jobId);
    out.setAttempt(value.attempt);
    out.setCheckpointId(value.checkpointId);
  }
  void operator()(const SavepointRequest& value) {
    auto out = body.initSavepointRequest();
    out.setJobId(value.jobId);
    out.setDirectory(value.directory);
    out.setStop(value.stop);
    out.setDrain(value.drain);
  }
};

}  // namespace

std::string encodeControl(const ControlMessage& message) {
  capnp::MallocMessageBuilder builder;
  auto envelope = builder.initRoot<wire::ControlEnvelope>();
  envelope.setVersion(kControlProtocolVersion);
  envelope.setRequestId(message.requestId);
  std::visit(Writer{envelope.initBody()}, message.body);
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<ControlMessage> decodeControl(const void* data, size_t size) {
  if (size == 0 || size % sizeof(capnp::word) != 0) {
    return Status::corruption("control message of " + std::to_string(size) + " bytes is not a whole number of words");
  }
  // Copy into aligned words: ZeroMQ frames may be unaligned, and control messages are small.
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words.begin(), data, size);
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 4 + 1024;
    options.nestingLimit = 16;
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    auto envelope = reader.getRoot<wire::ControlEnvelope>();
    if (envelope.getVersion() != kControlProtocolVersion) {
      return Status::invalidArgument("peer speaks control protocol version " + std::to_string(envelope.getVersion()) +
                                     ", this build speaks version " + std::to_string(kControlProtocolVersion) +
                                     "; run the same Sluice release everywhere");
    }
    ControlMessage message;
    message.requestId = envelope.getRequestId();
    auto body = envelope.getBody();
    using Which = wire::ControlEnvelope::Body::Which;
    switch (body.which()) {
      case Which::REGISTER_WORKER: {
        auto in = body.getRegisterWorker();
        message.body = RegisterWorker{in.getWorkerId().cStr(), in.getSlots(), in.getDataEndpoint().cStr()};
        break;
      }
      case Which::REGISTER_REPLY: {
        auto in = body.getRegisterReply();
        message.body = RegisterReply{in.getAccepted(), in.getError().cStr(), in.getHeartbeatIntervalMs()};
        break;
      }
      case Which::HEARTBEAT: message.body = Heartbeat{body.getHeartbeat().getWorkerId().cStr()}; break;
      case Which::DEPLOY_TASKS: {
        auto in = body.getDeployTasks();
        DeployTasks deploy;
        deploy.jobId = in.getJobId().cStr();
        deploy.attempt = in.getAttempt();
        deploy.job = readJob(in.getJob());
        for (auto placement : in.getPlacements()) {
          deploy.placements.push_back(Placement{placement.getNode().cStr(), placement.getSubtask(),
                                                placement.getWorkerId().cStr(), placement.getDataEndpoint().cStr()});
        }
        deploy.restoreMetadata = in.getRestoreMetadata().cStr();
        deploy.checkpointing = in.getCheckpointing();
        message.body = std::move(deploy);
        break;
      }
      case Which::TASK_STATE: {
        auto in = body.getTaskState();
        TaskStateUpdate update{in.getJobId().cStr(), in.getAttempt(),      in.getNode().cStr(),
                               in.getSubtask(),      in.getState().cStr(), in.getError().cStr(),
                               in.getRecordsIn(),    in.getRecordsOut(),   in.getWorkerId().cStr()};
        update.metricsOnly = in.getMetricsOnly();
        update.backpressure = in.getBackpressure();
        update.watermarks = readMap(in.getWatermarks());
        message.body = std::move(update);
        break;
      }
      case Which::CANCEL_JOB: {
        auto in = body.getCancelJob();
        message.body = CancelJob{in.getJobId().cStr(), in.getAttempt()};
        break;
      }
      case Which::DRAIN_SOURCES: {
        auto in = body.getDrainSources();
        message.body = DrainSources{in.getJobId().cStr(), in.getAttempt()};
        break;
      }
      case Which::SUBMIT_JOB: {
        SubmitJob submit{readJob(body.getSubmitJob().getJob()), {}};
        for (auto plugin : body.getSubmitJob().getPlugins()) submit.plugins.push_back(readPlugin(plugin));
        message.body = std::move(submit);
        break;
      }
      case Which::FETCH_PLUGIN: message.body = FetchPlugin{body.getFetchPlugin().cStr()}; break;
      case Which::PLUGIN_CONTENT: message.body = PluginContent{readPlugin(body.getPluginContent())}; break;
      case Which::STATUS_REQUEST: message.body = StatusRequest{body.getStatusRequest().getJobId().cStr()}; break;
      case Which::LIST_REQUEST: message.body = ListRequest{}; break;
      case Which::CANCEL_REQUEST: message.body = CancelRequest{body.getCancelRequest().getJobId().cStr()}; break;
      case Which::REPLY: {
        auto in = body.getReply();
        message.body = Reply{in.getOk(), in.getError().cStr(), in.getPayload().cStr()};
        break;
      }
      case Which::DISCONNECT: message.body = Disconnect{body.getDisconnect().cStr()}; break;
      case Which::WORKERS_REQUEST: message.body = WorkersRequest{}; break;
      case Which::TRIGGER_CHECKPOINT: {
        auto in = body.getTriggerCheckpoint();
        TriggerCheckpoint trigger{in.getJobId().cStr(), in.getAttempt(),          in.getCheckpointId(),
                                  in.getTimestampMs(),  in.getDirectory().cStr(), {}};
        for (auto task : in.getTasks()) trigger.tasks.push_back(readTask(task));
        message.body = std::move(trigger);
        break;
      }
      case Which::ACKNOWLEDGE_CHECKPOINT: {
        auto in = body.getAcknowledgeCheckpoint();
        message.body = AcknowledgeCheckpoint{in.getJobId().cStr(),   in.getAttempt(),      in.getCheckpointId(),
                                             readTask(in.getTask()), in.getState().cStr(), in.getFinished(),
                                             in.getAlignmentMs(),    in.getSizeBytes(),    in.getIncrementalSizeBytes(),
                                             in.getSyncMs(),         in.getAsyncMs(),      in.getStartDelayMs()};
        break;
      }
      case Which::DECLINE_CHECKPOINT: {
        auto in = body.getDeclineCheckpoint();
        message.body = DeclineCheckpoint{in.getJobId().cStr(), in.getAttempt(), in.getCheckpointId(),
                                         readTask(in.getTask()), in.getReason().cStr()};
        break;
      }
      case Which::CHECKPOINT_COMPLETE: {
        auto in = body.getCheckpointComplete();
        message.body = CheckpointComplete{in.getJobId().cStr(), in.getAttempt(), in.getCheckpointId()};
        break;
      }
      case Which::SAVEPOINT_REQUEST: {
        auto in = body.getSavepointRequest();
        message.body = SavepointRequest{in.getJobId().cStr(), in.getDirectory().cStr(), in.getStop(), in.getDrain()};
        break;
      }
      default: return Status::corruption("control message of an unknown kind");
    }
    return message;
  } catch (const kj::Exception& error) {
    return Status::corruption(std::string("malformed control message: ") + error.getDescription().cStr());
  }
}

}  // namespace sluice::transport
