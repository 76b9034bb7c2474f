// NodeOptionReader: typed access to a window node's YAML options that rejects
// keys nobody read (kept local so this library does not depend on sluice::operators).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "runtime/base/result.h"
#include "runtime/job/job_spec.h"

namespace sluice::window {

/// Reads the options of one node or nested mapping. Every error is one line
/// prefixed with the context ("node 'q5': window: ..."). Never throws.
class NodeOptionReader {
 public:
  NodeOptionReader(YAML::Node node, std::string context);
  /// A reader of a spec's options; id, type, from and parallelism count as read.
  static NodeOptionReader forSpec(const NodeSpec& spec);

  bool has(const std::string& key) const;
  /// The raw value (undefined when absent); marks the key read.
  YAML::Node take(const std::string& key);
  Result<std::optional<std::string>> string(const std::string& key);
  Result<std::optional<int64_t>> integer(const std::string& key);
  Result<std::optional<bool>> boolean(const std::string& key);
  /// "10s", "1500ms", a plain integer of milliseconds.
  Result<std::optional<int64_t>> durationMillis(const std::string& key);
  /// A list of strings; a single string counts as a list of one.
  Result<std::optional<std::vector<std::string>>> stringList(const std::string& key);
  /// A nested mapping's reader ("<context>: <key>"), or nullopt when absent.
  Result<std::optional<NodeOptionReader>> mapping(const std::string& key);
  /// The keys of this mapping in file order.
  std::vector<std::string> keys() const;

  /// Fails naming every key nobody read.
  Status checkAllRead() const;
  Status error(const std::string& message) const;

 private:
  YAML::Node node_;
  std::string context_;
  std::set<std::string> read_;
};

}  // namespace sluice::window
