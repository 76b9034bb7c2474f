// JobGraph: a job spec planned into nodes with schemas, parallelism, partitioned
// edges and operator chains; the same deterministic result on the job manager
// and on every worker, so only the job file travels, never code or plans.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/job/configuration.h"
#include "runtime/job/job_spec.h"
#include "runtime/job/node_factory.h"

namespace sluice {

/// A stream from one node's output `tag` into input `input` of another node.
struct GraphEdge {
  int upstream = -1;    // node index
  std::string tag;      // "" main output, else kind or side output
  int downstream = -1;  // node index
  int input = 0;        // which `from` entry of the downstream node
  InputPartitioning partitioning;
};

struct GraphNode {
  PlannedNode planned;
  int parallelism = 1;
  std::vector<int> inputEdges;   // edge indices, in input order
  std::vector<int> outputEdges;  // edge indices
  /// The edge through which this node is fused into its upstream's task, or -1
  /// when the node heads its own task (a chain).
  int chainedInput = -1;
  /// Index of the node heading the chain this node runs in.
  int chainHead = -1;
};

/// Knobs that come from the command line rather than the job file.
struct PlanOptions {
  std::optional<int> parallelism;                                   // -p
  std::string workingDirectory;                                     // where relative paths resolve
  const std::map<std::string, std::string>* pluginFiles = nullptr;  // see PlanContext
};

/// Nodes in topological order (every node after its inputs) plus edges.
class JobGraph {
 public:
  /// Plans `spec` under the effective configuration `config`. Errors name the
  /// node and option at fault.
  static Result<JobGraph> build(const JobSpec& spec, const Configuration& config, const PlanOptions& options);

  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const std::vector<GraphEdge>& edges() const { return edges_; }
  const GraphNode& node(int index) const { return nodes_[index]; }
  /// Index of node `id`, or -1.
  int indexOf(const std::string& id) const;
  /// Node indices that head a chain (one task per subtask each), in topological order.
  std::vector<int> chainHeads() const;
  /// The nodes of the chain headed by `head`, head first, each after its feeder.
  std::vector<int> chainMembers(int head) const;
  int maxParallelism() const { return maxParallelism_; }
  /// Total subtasks (tasks) the job needs: sum over chains of their parallelism.
  int numTasks() const;
  /// A one-line-per-chain description for logs and `status`.
  std::string describe() const;

 private:
  std::vector<GraphNode> nodes_;
  std::vector<GraphEdge> edges_;
  std::map<std::string, int> indexById_;
  int maxParallelism_ = 128;
};

/// The effective configuration: defaults < cluster file < job `config:` < -D.
Result<Configuration> effectiveConfiguration(const Configuration& cluster, const JobSpec& spec,
                                             const std::map<std::string, std::string>& dynamicProperties);

}  // namespace sluice
