// PluginOptions: the job-file options of one plugin node as text, handed to a
// plugin's factory, which reads its own keys; the engine rejects the keys nobody read.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/result.h"

namespace sluice {

/// The options of a plugin node after `${param}` substitution, minus the keys
/// the engine consumes itself (id, type, from, parallelism, plugin, operator,
/// function, key_by). Scalars are kept as written; nested lists and mappings as
/// YAML flow text (`[a, b]`, `{x: 1}`), which `yaml()`-aware plugins may parse
/// with yaml-cpp. Every getter marks its key read; after the factory returns,
/// the engine fails planning with "node 'x': unknown option 'k'" for each key
/// nobody read, so plugins get typo detection for free.
///
/// Header-only on purpose: plugins call it without linking engine code. Not
/// thread-safe (one factory call uses it).
class PluginOptions {
 public:
  PluginOptions() = default;
  /// `context` prefixes errors ("node 'dedup'"); `values` are (key, text)
  /// pairs in file order; `yaml` is the node's whole mapping as YAML text.
  PluginOptions(std::string context, std::vector<std::pair<std::string, std::string>> values, std::string yaml)
      : context_(std::move(context)), values_(std::move(values)), yaml_(std::move(yaml)) {}

  /// "node '<id>'", the prefix of error().
  const std::string& context() const { return context_; }
  /// The node's whole mapping (engine keys included) as YAML text.
  const std::string& yaml() const { return yaml_; }

  bool has(std::string_view key) const { return find(key) != nullptr; }

  /// The keys in file order.
  std::vector<std::string> keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, value] : values_) keys.push_back(key);
    return keys;
  }

  /// The text of `key`, or nullopt when absent. Marks the key read (and
  /// remembers it was asked for, for the "it reads: ..." list in errors).
  std::optional<std::string> get(std::string_view key) {
    read_.insert(std::string(key));
    const std::string* value = find(key);
    if (value == nullptr) return std::nullopt;
    return *value;
  }

  /// A whole number; an error names the key and the bad text.
  Result<std::optional<int64_t>> integer(std::string_view key) {
    std::optional<std::string> text = get(key);
    if (!text) return std::optional<int64_t>();
    std::optional<int64_t> value = parseInteger(*text);
    if (!value) return error(std::string(key) + ": expected a whole number, not '" + *text + "'");
    return value;
  }

  /// A number (integer or decimal).
  Result<std::optional<double>> number(std::string_view key) {
    std::optional<std::string> text = get(key);
    if (!text) return std::optional<double>();
    double value = 0;
    auto [end, failure] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || failure != std::errc() || end != text->data() + text->size()) {
      return error(std::string(key) + ": expected a number, not '" + *text + "'");
    }
    return std::optional<double>(value);
  }

  /// true/false (also yes/no, on/off).
  Result<std::optional<bool>> boolean(std::string_view key) {
    std::optional<std::string> text = get(key);
    if (!text) return std::optional<bool>();
    if (*text == "true" || *text == "yes" || *text == "on") return std::optional<bool>(true);
    if (*text == "false" || *text == "no" || *text == "off") return std::optional<bool>(false);
    return error(std::string(key) + ": expected true or false, not '" + *text + "'");
  }

  /// A duration in milliseconds: "1500ms", "10s", "2m", "1h", "1d" or a plain
  /// integer of milliseconds.
  Result<std::optional<int64_t>> durationMillis(std::string_view key) {
    std::optional<std::string> text = get(key);
    if (!text) return std::optional<int64_t>();
    std::string_view rest = *text;
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    std::optional<int64_t> amount = parseInteger(rest.substr(0, digits));
    std::string_view unit = rest.substr(digits);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    int64_t scale = 0;
    if (unit.empty() || unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m" || unit == "min") scale = 60 * 1000;
    if (unit == "h") scale = 60 * 60 * 1000;
    if (unit == "d") scale = 24 * 60 * 60 * 1000;
    if (!amount || scale == 0 || *amount > INT64_MAX / scale) {
      return error(std::string(key) + ": expected a duration such as 1500ms, 10s or 5m, not '" + *text + "'");
    }
    return std::optional<int64_t>(*amount * scale);
  }

  /// The keys no getter has read, in file order.
  std::vector<std::string> unread() const {
    std::vector<std::string> keys;
    for (const auto& [key, value] : values_) {
      if (read_.count(key) == 0) keys.push_back(key);
    }
    return keys;
  }
  /// The keys some getter asked for (present or not), sorted.
  std::vector<std::string> read() const { return {read_.begin(), read_.end()}; }

  /// InvalidArgument "<context>: <message>".
  Status error(std::string_view message) const {
    return Status::invalidArgument(context_.empty() ? std::string(message) : context_ + ": " + std::string(message));
  }

 private:
  const std::string* find(std::string_view key) const {
    for (const auto& [name, value] : values_) {
      if (name == key) return &value;
    }
    return nullptr;
  }
  static std::optional<int64_t> parseInteger(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    int64_t value = 0;
    auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || failure != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }

  std::string context_;
  std::vector<std::pair<std::string, std::string>> values_;
  std::string yaml_;
  std::set<std::string> read_;
};

}  // namespace sluice
