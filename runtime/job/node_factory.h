// The planner's view of an operator kind: validate a node spec, derive output
// schemas, say how inputs must be partitioned, and create per-subtask instances.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/data/schema.h"
#include "runtime/job/configuration.h"
#include "runtime/job/job_spec.h"
#include "runtime/task/operator.h"
#include "runtime/task/partitioning.h"
#include "runtime/task/source_reader.h"

namespace sluice {

/// What flows on one stream: its schema and which field carries event time.
struct StreamInfo {
  SchemaPtr schema;
  int eventTimeIndex = -1;
};

/// A node after planning: everything the runtime needs, independent of how
/// many subtasks run it. Factories are called once per subtask, from any thread.
struct PlannedNode {
  std::string id;
  NodeRole role = NodeRole::kOperator;
  /// Output streams by tag ("" is the main output; sources with kinds use the
  /// kind name; side outputs use their tag, e.g. "late").
  std::map<std::string, StreamInfo> outputs;
  /// One per `from` entry, in the same order.
  std::vector<InputPartitioning> inputs;
  /// The operator keeps keyed state: the runtime creates a KeyedStateBackend
  /// per subtask (type from `state.backend.type`) and passes it in
  /// OperatorContext::keyedStateBackend. Its keyed inputs must be kHash.
  bool keyed = false;
  /// Forces this parallelism (e.g. 1 for a global operator); else the usual precedence.
  std::optional<int> fixedParallelism;
  /// For operators and sinks.
  std::function<std::unique_ptr<Operator>()> createOperator;
  /// For sources: a reader for split `split` of `numSplits`.
  std::function<std::unique_ptr<SourceReader>(int split, int numSplits)> createReader;
  /// Sink-only: checks done once before the job starts (e.g. the output
  /// directory must not hold committed files on a fresh run).
  std::function<Status(bool resuming)> prepare;
};

/// Everything a factory may consult while planning a node.
struct PlanContext {
  const JobSpec* job = nullptr;
  const Configuration* config = nullptr;  // the effective configuration
  std::string workingDirectory;           // for relative paths
  /// Plugin name → the local file of its uploaded library (job manager store,
  /// worker cache); when set, plugins load from there, never from job paths.
  const std::map<std::string, std::string>* pluginFiles = nullptr;
};

/// Builds a PlannedNode from a spec and the infos of its input streams (in
/// `from` order). Errors must name the node id and the offending option.
using NodeFactory = std::function<Result<PlannedNode>(const NodeSpec& spec, const std::vector<StreamInfo>& inputs,
                                                      const PlanContext& context)>;

/// Maps node kinds to factories. Kinds: a source's `type` ("file",
/// "generator"), a sink's `type` ("file", "print", "discard"), an operator
/// node's `type` or, when absent, the kind implied by its keys (see
/// `operatorKindOf`).
///
/// Thread-safe: registration (normally once, from `registerBuiltinOperators()`
/// and plugin loading) and lookups may happen from any thread. Registering a
/// kind again replaces its factory.
class NodeRegistry {
 public:
  static NodeRegistry& instance();
  void registerSource(const std::string& type, NodeFactory factory);
  void registerSink(const std::string& type, NodeFactory factory);
  void registerOperator(const std::string& kind, NodeFactory factory);

  /// Finds the factory for a spec; errors name the node and list the known kinds.
  Result<NodeFactory> lookup(const NodeSpec& spec) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, NodeFactory> sources_;
  std::map<std::string, NodeFactory> sinks_;
  std::map<std::string, NodeFactory> operators_;
};

/// The operator kind of a node spec: its explicit `type`, else "map" when it has
/// `filter`/`select`/`where`, else empty.
std::string operatorKindOf(const NodeSpec& spec);

}  // namespace sluice
