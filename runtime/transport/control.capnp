# Control messages between the job manager, workers and clients. Versioned: a
# peer that speaks another version is refused with a clear message.
# Decoded (and validated) only by runtime/transport/control_codec.cc.

@0x9f3d8b8d031168b7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("sluice::transport::wire");

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct ControlEnvelope {
  version @0 :UInt16;
  requestId @1 :UInt64;
  # Set by a requester; copied into the reply.

  body :union {
    registerWorker @2 :RegisterWorker;
    registerReply @3 :RegisterReply;
    heartbeat @4 :Heartbeat;
    deployTasks @5 :DeployTasks;
    taskState @6 :TaskState;
    cancelJob @7 :JobAttempt;
    submitJob @8 :SubmitJob;
    statusRequest @9 :JobRequest;
    listRequest @10 :Void;
    cancelRequest @11 :JobRequest;
    reply @12 :Reply;
    disconnect @13 :Text;
    # A worker that shuts down says goodbye (its id).
    workersRequest @14 :Void;
    triggerCheckpoint @15 :TriggerCheckpoint;
    acknowledgeCheckpoint @16 :AcknowledgeCheckpoint;
    declineCheckpoint @17 :DeclineCheckpoint;
    checkpointComplete @18 :CheckpointComplete;
    savepointRequest @19 :SavepointRequest;
    fetchPlugin @20 :Text;
    # A worker asks for a stored plugin by its content hash.
    pluginContent @21 :PluginFile;
    # The answer: name = the hash.
    drainSources @22 :JobAttempt;
    # stop --drain: every source of the attempt ends its input as if it were bounded.
  }
}

struct RegisterWorker {
  workerId @0 :Text;
  slots @1 :UInt32;
  dataEndpoint @2 :Text;
}

struct RegisterReply {
  accepted @0 :Bool;
  error @1 :Text;
  heartbeatIntervalMs @2 :UInt32;
}

struct Heartbeat {
  workerId @0 :Text;
}

struct Placement {
  node @0 :Text;
  # The chain head node id.
  subtask @1 :UInt32;
  workerId @2 :Text;
  dataEndpoint @3 :Text;
}

struct JobDefinition {
  jobText @0 :Text;
  jobPath @1 :Text;
  parameters @2 :List(KeyValue);
  properties @3 :List(KeyValue);
  parallelism @4 :Int32;
  # 0 when not given (-p).
  workingDirectory @5 :Text;
  restorePath @6 :Text;
  # -s: a savepoint or retained checkpoint to resume from.
  allowNonRestoredState @7 :Bool;
  pluginHashes @8 :List(KeyValue);
  # Plugin name (as in the job's `plugins:`) -> content hash of the uploaded library.
}

struct DeployTasks {
  jobId @0 :Text;
  attempt @1 :UInt32;
  job @2 :JobDefinition;
  placements @3 :List(Placement);
  restoreMetadata @4 :Text;
  # Path of the `_metadata` file to restore from; empty for a fresh start.
  checkpointing @5 :Bool;
  # Tasks take part in checkpoints (sinks commit on completion, ended tasks wait for the final one).
}

struct TaskState {
  jobId @0 :Text;
  attempt @1 :UInt32;
  node @2 :Text;
  subtask @3 :UInt32;
  state @4 :Text;
  error @5 :Text;
  recordsIn @6 :Int64;
  recordsOut @7 :Int64;
  workerId @8 :Text;
  metricsOnly @9 :Bool;
  # A periodic metrics report: the job manager updates the counters, never the state.
  backpressure @10 :Float64;
  # Share of the last interval the task spent waiting to hand output downstream (0..1).
  watermarks @11 :List(KeyValue);
  # Node id -> the last watermark it emitted (decimal epoch ms).
}

struct JobAttempt {
  jobId @0 :Text;
  attempt @1 :UInt32;
}

struct SubmitJob {
  job @0 :JobDefinition;
  plugins @1 :List(PluginFile);
  # The libraries the job's `plugins:` section names, uploaded by the client.
}

struct PluginFile {
  name @0 :Text;
  content @1 :Data;
}

struct JobRequest {
  jobId @0 :Text;
}

struct Reply {
  ok @0 :Bool;
  error @1 :Text;
  payload @2 :Text;
  # JSON for status and list, the job id for submit.
}

struct TaskRef {
  node @0 :Text;
  # The chain head node id.
  subtask @1 :UInt32;
}

struct TriggerCheckpoint {
  jobId @0 :Text;
  attempt @1 :UInt32;
  checkpointId @2 :Int64;
  timestampMs @3 :Int64;
  directory @4 :Text;
  # Where tasks write their private files; shared files go to `directory/../shared`.
  tasks @5 :List(TaskRef);
  # Tasks triggered directly (running sources, tasks whose input has ended); the rest get barriers.
}

struct AcknowledgeCheckpoint {
  jobId @0 :Text;
  attempt @1 :UInt32;
  checkpointId @2 :Int64;
  task @3 :TaskRef;
  state @4 :Text;
  # JSON handle of the task's state (see runtime/checkpoint/checkpoint_metadata.h).
  finished @5 :Bool;
  alignmentMs @6 :Int64;
  sizeBytes @7 :Int64;
  incrementalSizeBytes @8 :Int64;
  syncMs @9 :Int64;
  # The task's synchronous snapshot part (it blocks processing).
  asyncMs @10 :Int64;
  # The upload that follows while processing goes on.
  startDelayMs @11 :Int64;
  # From the trigger to the first barrier's arrival at the task (wall clocks).
}

struct DeclineCheckpoint {
  jobId @0 :Text;
  attempt @1 :UInt32;
  checkpointId @2 :Int64;
  task @3 :TaskRef;
  reason @4 :Text;
}

struct CheckpointComplete {
  jobId @0 :Text;
  attempt @1 :UInt32;
  checkpointId @2 :Int64;
}

struct SavepointRequest {
  jobId @0 :Text;
  directory @1 :Text;
  stop @2 :Bool;
  # Stop the job once the savepoint is complete.
  drain @3 :Bool;
  # Before the savepoint, advance event time to the end so that every window fires.
}
