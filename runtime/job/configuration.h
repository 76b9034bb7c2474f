// Configuration: Flink-style keys with typed values, validated on entry.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace sluice {

enum class ConfigType { kDuration, kInteger, kString, kEnum, kBool };

/// A key the engine understands, with its type, default and help text.
struct ConfigOption {
  std::string key;
  ConfigType type;
  std::optional<std::string> defaultValue;
  std::string description;
  std::vector<std::string> allowed;  // for kEnum
};

/// A set of configuration values. Every key must be a known option and every
/// value must parse as the option's type: `set` rejects anything else, so a
/// typo in a job file or a `-D` flag is an error, never silently ignored.
/// Precedence is applied by merging: `-D` over the job's `config:` over the
/// cluster config file over defaults (`overlay`).
class Configuration {
 public:
  /// Every known option, in documentation order.
  static const std::vector<ConfigOption>& knownOptions();

  /// Sets `key` after validating it; errors name the key and what was expected.
  Status set(const std::string& key, const std::string& value);
  /// Copies every value of `higher` over this one (higher wins).
  void overlay(const Configuration& higher);

  bool contains(const std::string& key) const { return values_.count(key) > 0; }
  /// The explicit value or the option's default; nullopt when neither exists.
  std::optional<std::string> get(const std::string& key) const;

  /// Typed getters: explicit value, else default, else nullopt. REQUIRES: key is known.
  std::optional<std::chrono::milliseconds> getDuration(const std::string& key) const;
  std::optional<int64_t> getInteger(const std::string& key) const;
  std::optional<bool> getBool(const std::string& key) const;

  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

/// Parses "200ms", "10s", "1min", "2h", "1500" (milliseconds), "1 s".
Result<std::chrono::milliseconds> parseDuration(const std::string& text);

}  // namespace sluice
