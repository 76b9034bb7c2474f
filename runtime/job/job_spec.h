// JobSpec: a job file parsed into its sources, nodes and sinks, with parameters filled.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "runtime/base/result.h"
#include "runtime/job/configuration.h"

namespace sluice {

/// "events.bid" → {node "events", tag "bid"}; "counts" → {node "counts", tag ""}.
/// The tag names a source kind or a side output (e.g. "late").
struct StreamRef {
  std::string node;
  std::string tag;
  std::string toString() const { return tag.empty() ? node : node + "." + tag; }
  bool operator==(const StreamRef&) const = default;
};

enum class NodeRole { kSource, kOperator, kSink };

/// One entry of `sources:`, `nodes:` or `sinks:`. `options` is the entry's whole
/// YAML mapping after `${param}` substitution, a deep copy that shares nothing
/// with other specs; the operator that builds the node reads its own keys from
/// it and reports unknown ones. Every scalar in it is a string (read with
/// `as<std::string>()`). The copy carries no source positions: report errors
/// against `line`.
struct NodeSpec {
  std::string id;
  NodeRole role = NodeRole::kOperator;
  std::vector<StreamRef> from;     // empty for sources
  std::optional<int> parallelism;  // the node's own setting, if any
  YAML::Node options;
  int line = 0;  // 1-based line in the job file, for errors
};

/// One entry of the top-level `plugins:` list: a C++ plugin (a shared library)
/// the job's nodes refer to by `name` (`plugin: <name>`). `path` is as written
/// (after `${param}` substitution); relative paths resolve against the client's
/// working directory when the plugin is loaded (operators/plugin).
struct PluginRef {
  std::string name;
  std::string path;
  int line = 0;  // 1-based line in the job file, for errors
};

/// A parsed, parameter-substituted job file. Structure is validated (unique ids,
/// `from` names that exist, no cycles, a valid `config:`); the node-specific
/// options are validated later by the planner that builds each node.
struct JobSpec {
  std::string name;
  std::string sourceText;  // the original file, to ship to workers
  std::string path;        // where it was read from ("" if from text)
  Configuration config;    // the file's `config:` section only
  std::vector<NodeSpec> sources;
  std::vector<NodeSpec> nodes;
  std::vector<NodeSpec> sinks;
  std::vector<PluginRef> plugins;          // the `plugins:` section, in file order
  std::set<std::string> unusedParameters;  // `--set` keys the file never used

  /// The spec with this id in any section, or nullptr.
  const NodeSpec* find(const std::string& id) const;
  /// Every spec in a topological order (sources first, sinks last).
  std::vector<const NodeSpec*> topologicalOrder() const;
};

/// Parses a job file's text. `parameters` fills `${name}` and `${name:-default}`
/// in scalar values (never in keys or raw text); an unset parameter without a
/// default is an error naming it and its line. As in a shell, the default also
/// replaces an empty value; `$${` is a literal `${`. Placeholders may stand
/// unquoted inside flow collections (`{ path: ${output} }`). Relative paths are left as they
/// are; the client resolves them. Errors are one line, prefixed with the file
/// name (`displayName`) and line where known.
Result<JobSpec> parseJobSpec(const std::string& text, const std::map<std::string, std::string>& parameters,
                             const std::string& displayName = "job");

/// Reads `path` and parses it; a missing file is a NotFound error naming it.
Result<JobSpec> loadJobSpec(const std::string& path, const std::map<std::string, std::string>& parameters);

/// Parses "a.b" into a StreamRef (the first dot splits node and tag).
StreamRef parseStreamRef(const std::string& text);

}  // namespace sluice
