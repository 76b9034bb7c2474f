#include "runtime/graph/job_graph.h"

#include <algorithm>
#include <sstream>

namespace sluice {

Result<Configuration> effectiveConfiguration(const Configuration& cluster, const JobSpec& spec,
                                             const std::map<std::string, std::string>& dynamicProperties) {
  Configuration effective = cluster;
  effective.overlay(spec.config);
  for (const auto& [key, value] : dynamicProperties) {
    SLUICE_RETURN_NOT_OK(effective.set(key, value).withContext("-D " + key));
  }
  return effective;
}

int JobGraph::indexOf(const std::string& id) const {
  auto found = indexById_.find(id);
  return found == indexById_.end() ? -1 : found->second;
}

Result<JobGraph> JobGraph::build(const JobSpec& spec, const Configuration& config, const PlanOptions& options) {
  JobGraph graph;
  int defaultParallelism = static_cast<int>(config.getInteger("parallelism.default").value_or(1));
  if (options.parallelism) defaultParallelism = *options.parallelism;
  if (defaultParallelism <= 0) {
    return Status::invalidArgument("parallelism must be a positive integer, got " + std::to_string(defaultParallelism));
  }
  graph.maxParallelism_ = static_cast<int>(config.getInteger("pipeline.max-parallelism").value_or(128));

  PlanContext context;
  context.job = &spec;
  context.config = &config;
  context.workingDirectory = options.workingDirectory;
  context.pluginFiles = options.pluginFiles;

  for (const NodeSpec* spec_ : spec.topologicalOrder()) {
    const NodeSpec& nodeSpec = *spec_;
    std::vector<StreamInfo> inputs;
    std::vector<GraphEdge> pendingEdges;
    for (size_t i = 0; i < nodeSpec.from.size(); ++i) {
      const StreamRef& ref = nodeSpec.from[i];
      int upstream = graph.indexOf(ref.node);
      if (upstream < 0) {
        return Status::invalidArgument("node '" + nodeSpec.id + "': from '" + ref.toString() +
                                       "' names no earlier node");
      }
      const auto& outputs = graph.nodes_[upstream].planned.outputs;
      auto stream = outputs.find(ref.tag);
      if (stream == outputs.end()) {
        std::string known;
        for (const auto& [tag, info] : outputs) {
          known += known.empty() ? "" : ", ";
          known += tag.empty() ? ref.node : ref.node + "." + tag;
        }
        return Status::invalidArgument("node '" + nodeSpec.id + "': from '" + ref.toString() + "': node '" + ref.node +
                                       "' has no such output (it has: " + known + ")");
      }
      inputs.push_back(stream->second);
      GraphEdge edge;
      edge.upstream = upstream;
      edge.tag = ref.tag;
      edge.input = static_cast<int>(i);
      pendingEdges.push_back(edge);
    }
    SLUICE_ASSIGN_OR_RETURN(NodeFactory factory, NodeRegistry::instance().lookup(nodeSpec));
    SLUICE_ASSIGN_OR_RETURN(PlannedNode planned, factory(nodeSpec, inputs, context));
    planned.id = nodeSpec.id;
    planned.role = nodeSpec.role;
    if (planned.inputs.size() != nodeSpec.from.size()) {
      planned.inputs.resize(nodeSpec.from.size());
    }
    GraphNode node;
    node.parallelism = nodeSpec.parallelism.value_or(defaultParallelism);
    if (planned.fixedParallelism) node.parallelism = *planned.fixedParallelism;
    if (node.parallelism > graph.maxParallelism_) {
      return Status::invalidArgument("node '" + nodeSpec.id + "': parallelism " + std::to_string(node.parallelism) +
                                     " exceeds pipeline.max-parallelism " + std::to_string(graph.maxParallelism_));
    }
    int index = static_cast<int>(graph.nodes_.size());
    for (size_t i = 0; i < pendingEdges.size(); ++i) {
      GraphEdge edge = pendingEdges[i];
      edge.downstream = index;
      edge.partitioning = planned.inputs[i];
      const GraphNode& upstream = graph.nodes_[edge.upstream];
      if (edge.partitioning.kind == PartitionKind::kForward && upstream.parallelism != node.parallelism) {
        edge.partitioning.kind = PartitionKind::kRebalance;
      }
      node.inputEdges.push_back(static_cast<int>(graph.edges_.size()));
      graph.nodes_[edge.upstream].outputEdges.push_back(static_cast<int>(graph.edges_.size()));
      graph.edges_.push_back(edge);
    }
    node.planned = std::move(planned);
    graph.indexById_[nodeSpec.id] = index;
    graph.nodes_.push_back(std::move(node));
  }

  // Chaining: fuse a node into its upstream's task when it has exactly one
  // input, that input is forward with equal parallelism, and it is the only
  // consumer of that upstream output; then records cross no queue.
  for (size_t index = 0; index < graph.nodes_.size(); ++index) {
    GraphNode& node = graph.nodes_[index];
    node.chainHead = static_cast<int>(index);
    if (node.inputEdges.size() != 1) continue;
    const GraphEdge& edge = graph.edges_[node.inputEdges[0]];
    if (edge.partitioning.kind != PartitionKind::kForward) continue;
    const GraphNode& upstream = graph.nodes_[edge.upstream];
    if (upstream.parallelism != node.parallelism) continue;
    int consumersOfTag = 0;
    for (int out : upstream.outputEdges) consumersOfTag += graph.edges_[out].tag == edge.tag ? 1 : 0;
    if (consumersOfTag != 1) continue;
    node.chainedInput = node.inputEdges[0];
    node.chainHead = upstream.chainHead;
  }
  return graph;
}

std::vector<int> JobGraph::chainHeads() const {
  std::vector<int> heads;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].chainHead == static_cast<int>(i)) heads.push_back(static_cast<int>(i));
  }
  return heads;
}

std::vector<int> JobGraph::chainMembers(int head) const {
  std::vector<int> members;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].chainHead == head) members.push_back(static_cast<int>(i));
  }
  return members;
}

int JobGraph::numTasks() const {
  int total = 0;
  for (int head : chainHeads()) total += nodes_[head].parallelism;
  return total;
}

std::string JobGraph::describe() const {
  std::ostringstream out;
  for (int head : chainHeads()) {
    out << "  task x" << nodes_[head].parallelism << ": ";
    bool first = true;
    for (int member : chainMembers(head)) {
      out << (first ? "" : " -> ") << nodes_[member].planned.id;
      first = false;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace sluice
