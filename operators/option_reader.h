// OptionReader: typed, validated access to the YAML options of a node spec.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "runtime/base/result.h"
#include "runtime/data/schema.h"
#include "runtime/job/job_spec.h"

namespace sluice {

/// Reads the keys of one YAML mapping and remembers which were read, so that
/// checkAllRead() can reject the rest ("node 'q2': unknown option 'slect'").
/// Every error is one line prefixed with the context ("source 'events'",
/// "node 'q2'", "sink 'out'", or a nested "source 'events': watermark").
/// Getters return nullopt for an absent key. Never throws.
class OptionReader {
 public:
  OptionReader(YAML::Node node, std::string context);

  /// A reader of a spec's options; `id`, `type`, `from` and `parallelism`
  /// (read by the job parser) count as read.
  static OptionReader forSpec(const NodeSpec& spec);

  const std::string& context() const { return context_; }
  bool has(const std::string& key) const;

  /// The raw value (an undefined node when absent); marks the key read.
  YAML::Node take(const std::string& key);

  Result<std::optional<std::string>> string(const std::string& key);
  Result<std::optional<int64_t>> integer(const std::string& key);
  Result<std::optional<double>> number(const std::string& key);
  /// "1500ms", "2s", ... or a plain integer of milliseconds.
  Result<std::optional<std::chrono::milliseconds>> duration(const std::string& key);
  /// A list of strings; a single string counts as a list of one.
  Result<std::optional<std::vector<std::string>>> stringList(const std::string& key);
  /// The (name, value) scalar pairs of a mapping, in file order.
  Result<std::optional<std::vector<std::pair<std::string, std::string>>>> stringMap(const std::string& key);
  /// A schema written as a mapping `{name: type, ...}` in field order.
  Result<std::optional<SchemaPtr>> schema(const std::string& key);
  /// A reader for a nested mapping, with context "<context>: <key>".
  Result<std::optional<OptionReader>> mapping(const std::string& key);

  /// Fails naming every key nobody read.
  Status checkAllRead() const;

  /// An InvalidArgument status "<context>: <message>".
  Status error(const std::string& message) const;

 private:
  Status expected(const std::string& key, const std::string& what) const;

  YAML::Node node_;
  std::string context_;
  std::set<std::string> read_;
};

}  // namespace sluice
