#include "runtime/checkpoint/checkpoint_metadata.h"

#include <nlohmann/json.hpp>

#include <set>

namespace sluice {
namespace {

using nlohmann::json;

json snapshotToJson(const StateSnapshot& snapshot) {
  return json{{"backend", snapshot.backendType},
              {"key_groups", {snapshot.keyGroups.first, snapshot.keyGroups.last}},
              {"files", snapshot.files},
              {"manifest", snapshot.metadata},
              {"size", snapshot.sizeBytes},
              {"incremental_size", snapshot.incrementalSizeBytes},
              {"checkpoint", snapshot.checkpointId}};
}

StateSnapshot snapshotFromJson(const json& in) {
  StateSnapshot snapshot;
  snapshot.backendType = in.at("backend").get<std::string>();
  snapshot.keyGroups.first = in.at("key_groups").at(0).get<int>();
  snapshot.keyGroups.last = in.at("key_groups").at(1).get<int>();
  snapshot.files = in.at("files").get<std::vector<std::string>>();
  snapshot.metadata = in.at("manifest").get<std::string>();
  snapshot.sizeBytes = in.at("size").get<int64_t>();
  snapshot.incrementalSizeBytes = in.at("incremental_size").get<int64_t>();
  snapshot.checkpointId = in.at("checkpoint").get<int64_t>();
  return snapshot;
}

json taskToJson(const TaskStateHandle& task) {
  json operators = json::array();
  for (const OperatorStateHandle& op : task.operators) {
    json entry{{"node", op.node}, {"source", op.isSource}};
    if (!op.operatorStateFile.empty()) {
      entry["operator_state"] = op.operatorStateFile;
      entry["operator_state_size"] = op.operatorStateBytes;
    }
    if (op.keyedState) entry["keyed_state"] = snapshotToJson(*op.keyedState);
    if (op.isSource) entry["position"] = op.sourcePosition;
    operators.push_back(std::move(entry));
  }
  return json{{"head", task.head}, {"subtask", task.subtask}, {"finished", task.finished}, {"operators", operators}};
}

TaskStateHandle taskFromJson(const json& in) {
  TaskStateHandle task;
  task.head = in.at("head").get<std::string>();
  task.subtask = in.at("subtask").get<int>();
  task.finished = in.at("finished").get<bool>();
  for (const json& entry : in.at("operators")) {
    OperatorStateHandle op;
    op.node = entry.at("node").get<std::string>();
    op.isSource = entry.at("source").get<bool>();
    if (entry.contains("operator_state")) {
      op.operatorStateFile = entry.at("operator_state").get<std::string>();
      op.operatorStateBytes = entry.at("operator_state_size").get<int64_t>();
    }
    if (entry.contains("keyed_state")) op.keyedState = snapshotFromJson(entry.at("keyed_state"));
    if (op.isSource) op.sourcePosition = entry.at("position").get<std::string>();
    task.operators.push_back(std::move(op));
  }
  return task;
}

}  // namespace

std::vector<std::string> CheckpointMetadata::files() const {
  std::set<std::string> unique;
  for (const TaskStateHandle& task : tasks) {
    for (const OperatorStateHandle& op : task.operators) {
      if (!op.operatorStateFile.empty()) unique.insert(op.operatorStateFile);
      if (op.keyedState) unique.insert(op.keyedState->files.begin(), op.keyedState->files.end());
    }
  }
  return {unique.begin(), unique.end()};
}

int64_t CheckpointMetadata::sizeBytes() const {
  int64_t total = 0;
  for (const TaskStateHandle& task : tasks) {
    for (const OperatorStateHandle& op : task.operators) {
      total += op.operatorStateBytes;
      if (op.keyedState) total += op.keyedState->sizeBytes;
    }
  }
  return total;
}

std::string toJson(const TaskStateHandle& task) { return taskToJson(task).dump(); }

Result<TaskStateHandle> parseTaskStateHandle(std::string_view text, std::string_view where) {
  try {
    return taskFromJson(json::parse(text));
  } catch (const std::exception& error) {
    return Status::corruption(std::string(where) + ": not a task state handle: " + error.what());
  }
}

std::string toJson(const CheckpointMetadata& metadata) {
  json tasks = json::array();
  for (const TaskStateHandle& task : metadata.tasks) tasks.push_back(taskToJson(task));
  json parallelism = json::object();
  for (const auto& [node, value] : metadata.parallelism) parallelism[node] = value;
  json out{{"format", "sluice-checkpoint"},
           {"version", CheckpointMetadata::kFormatVersion},
           {"job_id", metadata.jobId},
           {"job_name", metadata.jobName},
           {"checkpoint_id", metadata.checkpointId},
           {"timestamp_ms", metadata.timestampMs},
           {"savepoint", metadata.savepoint},
           {"max_parallelism", metadata.maxParallelism},
           {"root", metadata.root},
           {"parallelism", parallelism},
           {"tasks", tasks}};
  return out.dump(1);
}

Result<CheckpointMetadata> parseCheckpointMetadata(std::string_view text, std::string_view where) {
  try {
    json in = json::parse(text);
    if (in.value("format", "") != "sluice-checkpoint") {
      return Status::corruption(std::string(where) + " is not Sluice checkpoint metadata");
    }
    if (in.at("version").get<int>() != CheckpointMetadata::kFormatVersion) {
      return Status::invalidArgument(std::string(where) + " has metadata version " +
                                     std::to_string(in.at("version").get<int>()) + "; this build reads version " +
                                     std::to_string(CheckpointMetadata::kFormatVersion));
    }
    CheckpointMetadata metadata;
    metadata.jobId = in.at("job_id").get<std::string>();
    metadata.jobName = in.at("job_name").get<std::string>();
    metadata.checkpointId = in.at("checkpoint_id").get<int64_t>();
    metadata.timestampMs = in.at("timestamp_ms").get<int64_t>();
    metadata.savepoint = in.at("savepoint").get<bool>();
    metadata.maxParallelism = in.at("max_parallelism").get<int>();
    metadata.root = in.at("root").get<std::string>();
    for (const auto& [node, value] : in.at("parallelism").items())
      metadata.parallelism.emplace_back(node, value.get<int>());
    for (const json& task : in.at("tasks")) metadata.tasks.push_back(taskFromJson(task));
    return metadata;
  } catch (const std::exception& error) {
    return Status::corruption(std::string(where) + " is damaged: " + error.what());
  }
}

}  // namespace sluice
