// Job file parsing: YAML to JobSpec, with `${param}` substitution and structural checks.
#include "runtime/job/job_spec.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/job/configuration_file.h"

namespace sluice {
namespace {

const char* const kTopLevelKeys[] = {"name", "config", "plugins", "sources", "nodes", "sinks"};

std::string_view roleNoun(NodeRole role) {
  switch (role) {
    case NodeRole::kSource: return "source";
    case NodeRole::kOperator: return "node";
    case NodeRole::kSink: return "sink";
  }
  return "node";
}

bool isIdentifier(std::string_view text) {
  if (text.empty()) return false;
  auto isLetter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!isLetter(text.front())) return false;
  return std::all_of(text.begin(), text.end(),
                     [&](char c) { return isLetter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

bool isParameterName(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

/// Builds one-line errors that start with the file's display name and a line.
class ErrorReporter {
 public:
  explicit ErrorReporter(std::string displayName) : displayName_(std::move(displayName)) {}

  const std::string& displayName() const { return displayName_; }

  std::string location(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? displayName_ : fmt::format("{}:{}", displayName_, mark.line + 1);
  }
  std::string location(int line) const { return line > 0 ? fmt::format("{}:{}", displayName_, line) : displayName_; }

  Status at(const YAML::Node& node, std::string_view message) const {
    return Status::invalidArgument(fmt::format("{}: {}", location(node), message));
  }
  Status at(int line, std::string_view message) const {
    return Status::invalidArgument(fmt::format("{}: {}", location(line), message));
  }

 private:
  std::string displayName_;
};

/// Makes `${...}` placeholders safe to parse. YAML forbids `{` and `}` in plain
/// scalars inside flow collections, so `{ path: ${output} }` would not parse;
/// before parsing, each placeholder is swapped for a plain token, and after
/// parsing every scalar gets its placeholders back. No parameter value ever
/// enters the raw text, so a value cannot change the document's structure.
class PlaceholderProtection {
 public:
  explicit PlaceholderProtection(const std::string& text) {
    prefix_ = "__sluice_placeholder_";
    while (text.find(prefix_) != std::string::npos) prefix_ += "_";
  }

  /// `text` with every single-line `${...}` replaced by a token.
  std::string protect(const std::string& text) {
    std::string result;
    size_t position = 0;
    while (true) {
      size_t open = text.find("${", position);
      size_t close = open == std::string::npos ? std::string::npos : text.find_first_of("}\n", open + 2);
      if (close == std::string::npos || text[close] != '}') {
        if (open == std::string::npos) break;
        result.append(text, position, open + 2 - position);
        position = open + 2;
        continue;
      }
      result.append(text, position, open - position);
      result += fmt::format("{}{}__", prefix_, originals_.size());
      originals_.push_back(text.substr(open, close + 1 - open));
      position = close + 1;
    }
    result.append(text, position);
    return result;
  }

  /// A parsed scalar with its placeholders put back.
  std::string restore(const std::string& scalar) const {
    if (originals_.empty()) return scalar;
    std::string result;
    size_t position = 0;
    while (true) {
      size_t start = scalar.find(prefix_, position);
      if (start == std::string::npos) break;
      size_t digits = start + prefix_.size();
      size_t end = digits;
      while (end < scalar.size() && scalar[end] >= '0' && scalar[end] <= '9') ++end;
      size_t index = 0;
      auto [last, error] = std::from_chars(scalar.data() + digits, scalar.data() + end, index);
      if (end == digits || error != std::errc() || last != scalar.data() + end || index >= originals_.size() ||
          scalar.compare(end, 2, "__") != 0) {
        result.append(scalar, position, digits - position);
        position = digits;
        continue;
      }
      result.append(scalar, position, start - position);
      result += originals_[index];
      position = end + 2;
    }
    result.append(scalar, position);
    return result;
  }

 private:
  std::string prefix_;
  std::vector<std::string> originals_;
};

/// Fills `${name}` and `${name:-default}` in every scalar value of a document
/// (never in keys), remembering which parameters were referenced. `$${` is a
/// literal `${`. Also rejects mappings that repeat a key, which yaml-cpp accepts.
class ParameterSubstitution {
 public:
  ParameterSubstitution(const std::map<std::string, std::string>& parameters, const PlaceholderProtection& placeholders,
                        const ErrorReporter& errors)
      : parameters_(parameters), placeholders_(placeholders), errors_(errors) {}

  Status apply(YAML::Node node) {
    switch (node.Type()) {
      case YAML::NodeType::Scalar: {
        SLUICE_ASSIGN_OR_RETURN(std::string expanded, expand(placeholders_.restore(node.Scalar()), node));
        if (expanded != node.Scalar()) node = expanded;
        return Status::OK();
      }
      case YAML::NodeType::Sequence:
        for (YAML::Node element : node) SLUICE_RETURN_NOT_OK(apply(element));
        return Status::OK();
      case YAML::NodeType::Map: {
        std::set<std::string> keys;
        for (auto it = node.begin(); it != node.end(); ++it) {
          YAML::Node key = it->first;
          if (key.IsScalar()) {
            // Keys get their placeholders back but are never substituted.
            std::string restored = placeholders_.restore(key.Scalar());
            if (restored != key.Scalar()) key = restored;
            if (!keys.insert(restored).second) {
              return errors_.at(key, fmt::format("duplicate key '{}'", restored));
            }
          }
          SLUICE_RETURN_NOT_OK(apply(it->second));
        }
        return Status::OK();
      }
      default: return Status::OK();
    }
  }

  const std::set<std::string>& used() const { return used_; }

 private:
  Result<std::string> expand(const std::string& text, const YAML::Node& node) {
    std::string result;
    size_t position = 0;
    while (position < text.size()) {
      if (text.compare(position, 3, "$${") == 0) {
        result += "${";
        position += 3;
        continue;
      }
      if (text.compare(position, 2, "${") != 0) {
        result += text[position++];
        continue;
      }
      size_t close = text.find('}', position + 2);
      if (close == std::string::npos) {
        return errors_.at(node, fmt::format("unterminated parameter reference in '{}'; write ${{name}}", text));
      }
      std::string reference = text.substr(position + 2, close - position - 2);
      size_t separator = reference.find(":-");
      std::string name = reference.substr(0, separator);
      std::optional<std::string> defaultValue;
      if (separator != std::string::npos) defaultValue = reference.substr(separator + 2);
      if (!isParameterName(name)) {
        return errors_.at(node, fmt::format("invalid parameter reference '${{{}}}': a name may hold letters, "
                                            "digits, '_', '-' and '.'",
                                            reference));
      }
      used_.insert(name);
      auto given = parameters_.find(name);
      // As in a shell, `:-` also replaces an empty value.
      if (given != parameters_.end() && !(defaultValue && given->second.empty())) {
        result += given->second;
      } else if (defaultValue) {
        result += *defaultValue;
      } else {
        return errors_.at(node, fmt::format("parameter '{}' is not set; pass --set {}=VALUE", name, name));
      }
      position = close + 1;
    }
    return result;
  }

  const std::map<std::string, std::string>& parameters_;
  const PlaceholderProtection& placeholders_;
  const ErrorReporter& errors_;
  std::set<std::string> used_;
};

std::optional<int64_t> parseWholeInteger(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// Parses one entry of `sources:`, `nodes:` or `sinks:` (the entry is already substituted).
Result<NodeSpec> parseEntry(const YAML::Node& entry, NodeRole role, std::string_view section,
                            const ErrorReporter& errors) {
  if (!entry.IsMap()) {
    return errors.at(entry, fmt::format("every entry of '{}' must be a mapping with an 'id'", section));
  }
  NodeSpec spec;
  spec.role = role;
  spec.line = entry.Mark().is_null() ? 0 : entry.Mark().line + 1;
  const std::string_view noun = roleNoun(role);

  const YAML::Node id = entry["id"];
  if (!id.IsDefined() || id.IsNull()) {
    return errors.at(entry, fmt::format("every entry of '{}' needs an 'id'", section));
  }
  if (!id.IsScalar() || !isIdentifier(id.Scalar())) {
    return errors.at(id, fmt::format("{} id '{}' is invalid: use letters, digits, '_' and '-', starting with a "
                                     "letter or '_'",
                                     noun, id.IsScalar() ? id.Scalar() : "<not a string>"));
  }
  spec.id = id.Scalar();

  const YAML::Node from = entry["from"];
  if (role == NodeRole::kSource) {
    if (from.IsDefined()) {
      return errors.at(from,
                       fmt::format("source '{}' does not take 'from'; a source reads from outside the job", spec.id));
    }
  } else {
    if (!from.IsDefined() || from.IsNull()) {
      return errors.at(entry, fmt::format("{} '{}' needs 'from': the streams it reads", noun, spec.id));
    }
    std::vector<YAML::Node> references;
    if (from.IsScalar()) {
      references.push_back(from);
    } else if (from.IsSequence()) {
      for (const YAML::Node& element : from) references.push_back(element);
    } else {
      return errors.at(from, fmt::format("{} '{}': 'from' must be a stream name or a list of them", noun, spec.id));
    }
    if (references.empty()) return errors.at(from, fmt::format("{} '{}': 'from' is empty", noun, spec.id));
    for (const YAML::Node& reference : references) {
      if (!reference.IsScalar()) {
        return errors.at(reference, fmt::format("{} '{}': 'from' must list stream names", noun, spec.id));
      }
      StreamRef stream = parseStreamRef(reference.Scalar());
      bool hasDot = reference.Scalar().find('.') != std::string::npos;
      if (!isIdentifier(stream.node) || (hasDot && stream.tag.empty())) {
        return errors.at(reference, fmt::format("{} '{}': 'from' entry '{}' is not a stream name (node, or "
                                                "node.kind / node.side-output)",
                                                noun, spec.id, reference.Scalar()));
      }
      spec.from.push_back(std::move(stream));
    }
  }

  const YAML::Node parallelism = entry["parallelism"];
  if (parallelism.IsDefined()) {
    std::optional<int64_t> value =
        parallelism.IsScalar() ? parseWholeInteger(parallelism.Scalar()) : std::optional<int64_t>();
    if (!value || *value < 1 || *value > std::numeric_limits<int>::max()) {
      return errors.at(parallelism,
                       fmt::format("{} '{}': parallelism must be a positive integer, got {}", noun, spec.id,
                                   parallelism.IsScalar() ? parallelism.Scalar() : "a list or mapping"));
    }
    spec.parallelism = static_cast<int>(*value);
  }

  spec.options = YAML::Clone(entry);
  return spec;
}

Status parseSection(const YAML::Node& root, const char* section, NodeRole role, const ErrorReporter& errors,
                    std::vector<NodeSpec>* specs) {
  const YAML::Node list = root[section];
  if (!list.IsDefined() || list.IsNull()) return Status::OK();
  if (!list.IsSequence()) return errors.at(list, fmt::format("'{}' must be a list of entries", section));
  for (const YAML::Node& entry : list) {
    SLUICE_ASSIGN_OR_RETURN(NodeSpec spec, parseEntry(entry, role, section, errors));
    specs->push_back(std::move(spec));
  }
  return Status::OK();
}

/// Parses `plugins: [{name: example, path: ${plugin}}, ...]`: unique names, non-empty paths.
Status parsePlugins(const YAML::Node& list, const ErrorReporter& errors, std::vector<PluginRef>* plugins) {
  if (!list.IsDefined() || list.IsNull()) return Status::OK();
  if (!list.IsSequence()) return errors.at(list, "'plugins' must be a list of {name: ..., path: ...} entries");
  for (const YAML::Node& entry : list) {
    if (!entry.IsMap()) return errors.at(entry, "every entry of 'plugins' must be a mapping {name: ..., path: ...}");
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key != "name" && key != "path") {
        return errors.at(it->first, fmt::format("plugins: unknown key '{}' (expected name, path)", key));
      }
    }
    PluginRef plugin;
    plugin.line = entry.Mark().is_null() ? 0 : entry.Mark().line + 1;
    const YAML::Node name = entry["name"];
    if (!name.IsDefined() || !name.IsScalar() || !isIdentifier(name.Scalar())) {
      return errors.at(name.IsDefined() ? name : entry,
                       "plugins: every plugin needs a 'name' of letters, digits, '_' and '-', starting with a letter");
    }
    plugin.name = name.Scalar();
    const YAML::Node path = entry["path"];
    if (!path.IsDefined() || !path.IsScalar() || path.Scalar().empty()) {
      return errors.at(path.IsDefined() ? path : entry,
                       fmt::format("plugin '{}' needs a 'path' to its shared library", plugin.name));
    }
    plugin.path = path.Scalar();
    for (const PluginRef& earlier : *plugins) {
      if (earlier.name == plugin.name) {
        return errors.at(plugin.line,
                         fmt::format("duplicate plugin name '{}' (first used on line {})", plugin.name, earlier.line));
      }
    }
    plugins->push_back(std::move(plugin));
  }
  return Status::OK();
}

/// Checks ids are unique and every `from` names a source or node.
Status checkReferences(const JobSpec& job, const ErrorReporter& errors) {
  std::map<std::string, const NodeSpec*> byId;
  for (const auto* section : {&job.sources, &job.nodes, &job.sinks}) {
    for (const NodeSpec& spec : *section) {
      auto [it, inserted] = byId.emplace(spec.id, &spec);
      if (!inserted) {
        return errors.at(spec.line,
                         fmt::format("duplicate id '{}' (first used on line {})", spec.id, it->second->line));
      }
    }
  }
  std::vector<std::string> inputs;
  for (const auto* section : {&job.sources, &job.nodes}) {
    for (const NodeSpec& spec : *section) inputs.push_back(spec.id);
  }
  for (const auto* section : {&job.nodes, &job.sinks}) {
    for (const NodeSpec& spec : *section) {
      for (const StreamRef& stream : spec.from) {
        auto it = byId.find(stream.node);
        if (it == byId.end()) {
          return errors.at(spec.line, fmt::format("{} '{}': 'from' names unknown node '{}' (sources and nodes: {})",
                                                  roleNoun(spec.role), spec.id, stream.node, fmt::join(inputs, ", ")));
        }
        if (it->second->role == NodeRole::kSink) {
          return errors.at(spec.line, fmt::format("{} '{}': 'from' names sink '{}', which has no output",
                                                  roleNoun(spec.role), spec.id, stream.node));
        }
      }
    }
  }
  return Status::OK();
}

/// Rejects cycles among operator nodes (sources have no inputs and sinks no outputs).
Status checkAcyclic(const JobSpec& job, const ErrorReporter& errors) {
  std::map<std::string, size_t> indexOf;
  for (size_t i = 0; i < job.nodes.size(); ++i) indexOf[job.nodes[i].id] = i;
  enum class Mark { kUnvisited, kInProgress, kDone };
  std::vector<Mark> marks(job.nodes.size(), Mark::kUnvisited);
  std::vector<size_t> path;
  std::optional<std::vector<size_t>> cycle;

  std::function<void(size_t)> visit = [&](size_t index) {
    marks[index] = Mark::kInProgress;
    path.push_back(index);
    for (const StreamRef& stream : job.nodes[index].from) {
      auto it = indexOf.find(stream.node);
      if (it == indexOf.end() || cycle) continue;
      if (marks[it->second] == Mark::kInProgress) {
        auto start = std::find(path.begin(), path.end(), it->second);
        cycle.emplace(start, path.end());
      } else if (marks[it->second] == Mark::kUnvisited) {
        visit(it->second);
      }
    }
    path.pop_back();
    marks[index] = Mark::kDone;
  };
  for (size_t i = 0; i < job.nodes.size() && !cycle; ++i) {
    if (marks[i] == Mark::kUnvisited) visit(i);
  }
  if (!cycle) return Status::OK();

  // The walk follows `from` edges (consumer to producer): reverse it into
  // data-flow order and start at the node that comes first in the file.
  std::reverse(cycle->begin(), cycle->end());
  std::rotate(cycle->begin(), std::min_element(cycle->begin(), cycle->end()), cycle->end());
  std::vector<std::string> names;
  for (size_t index : *cycle) names.push_back(job.nodes[index].id);
  names.push_back(names.front());
  return errors.at(job.nodes[cycle->front()].line, fmt::format("nodes form a cycle: {}", fmt::join(names, " -> ")));
}

Result<JobSpec> parseDocument(const std::string& text, const std::map<std::string, std::string>& parameters,
                              const ErrorReporter& errors) {
  PlaceholderProtection placeholders(text);
  YAML::Node root;
  try {
    root = YAML::Load(placeholders.protect(text));
  } catch (const YAML::Exception& error) {
    return Status::invalidArgument(fmt::format("{}:{}:{}: malformed YAML: {}", errors.displayName(),
                                               error.mark.line + 1, error.mark.column + 1, error.msg));
  }
  if (!root.IsDefined() || root.IsNull()) {
    return Status::invalidArgument(fmt::format("{}: the job file is empty", errors.displayName()));
  }
  if (!root.IsMap()) {
    return errors.at(root, "a job file must be a mapping with 'name', 'sources' and 'sinks'");
  }

  ParameterSubstitution substitution(parameters, placeholders, errors);
  SLUICE_RETURN_NOT_OK(substitution.apply(root));

  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    if (std::find(std::begin(kTopLevelKeys), std::end(kTopLevelKeys), key) == std::end(kTopLevelKeys)) {
      return errors.at(it->first, fmt::format("unknown top-level key '{}' (expected {})", key,
                                              fmt::join(std::begin(kTopLevelKeys), std::end(kTopLevelKeys), ", ")));
    }
  }

  const YAML::Node& document = root;  // const access never inserts keys
  JobSpec job;
  const YAML::Node name = document["name"];
  if (!name.IsDefined() || name.IsNull()) return errors.at(root, "the job needs a 'name'");
  if (!name.IsScalar() || name.Scalar().empty()) return errors.at(name, "'name' must be a non-empty string");
  job.name = name.Scalar();

  SLUICE_RETURN_NOT_OK(applyConfigurationYaml(document["config"], errors.displayName(), &job.config));

  SLUICE_RETURN_NOT_OK(parsePlugins(document["plugins"], errors, &job.plugins));
  SLUICE_RETURN_NOT_OK(parseSection(document, "sources", NodeRole::kSource, errors, &job.sources));
  SLUICE_RETURN_NOT_OK(parseSection(document, "nodes", NodeRole::kOperator, errors, &job.nodes));
  SLUICE_RETURN_NOT_OK(parseSection(document, "sinks", NodeRole::kSink, errors, &job.sinks));
  if (job.sources.empty()) return errors.at(root, "the job has no sources; add a 'sources:' list");
  if (job.sinks.empty()) return errors.at(root, "the job has no sinks; add a 'sinks:' list");

  SLUICE_RETURN_NOT_OK(checkReferences(job, errors));
  SLUICE_RETURN_NOT_OK(checkAcyclic(job, errors));

  for (const auto& [key, value] : parameters) {
    if (substitution.used().count(key) == 0) job.unusedParameters.insert(key);
  }
  job.sourceText = text;
  return job;
}

}  // namespace

const NodeSpec* JobSpec::find(const std::string& id) const {
  for (const auto* section : {&sources, &nodes, &sinks}) {
    for (const NodeSpec& spec : *section) {
      if (spec.id == id) return &spec;
    }
  }
  return nullptr;
}

std::vector<const NodeSpec*> JobSpec::topologicalOrder() const {
  std::vector<const NodeSpec*> order;
  for (const NodeSpec& spec : sources) order.push_back(&spec);

  // Kahn's algorithm, always taking the earliest ready node in file order, so
  // the order is deterministic and follows the file where dependencies allow.
  std::map<std::string, size_t> indexOf;
  for (size_t i = 0; i < nodes.size(); ++i) indexOf[nodes[i].id] = i;
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const StreamRef& stream : nodes[i].from) {
      auto it = indexOf.find(stream.node);
      if (it == indexOf.end()) continue;
      ++pending[i];
      consumers[it->second].push_back(i);
    }
  }
  std::vector<bool> emitted(nodes.size(), false);
  for (size_t round = 0; round < nodes.size(); ++round) {
    size_t next = 0;
    while (next < nodes.size() && (emitted[next] || pending[next] > 0)) ++next;
    if (next == nodes.size()) break;  // a cycle; parseJobSpec rejects those
    emitted[next] = true;
    order.push_back(&nodes[next]);
    for (size_t consumer : consumers[next]) --pending[consumer];
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!emitted[i]) order.push_back(&nodes[i]);
  }

  for (const NodeSpec& spec : sinks) order.push_back(&spec);
  return order;
}

Result<JobSpec> parseJobSpec(const std::string& text, const std::map<std::string, std::string>& parameters,
                             const std::string& displayName) {
  ErrorReporter errors(displayName);
  try {
    return parseDocument(text, parameters, errors);
  } catch (const YAML::Exception& error) {
    // parseDocument avoids throwing accessors; this is the last line of defence.
    return Status::invalidArgument(fmt::format("{}: invalid job file: {}", displayName, error.msg));
  }
}

Result<JobSpec> loadJobSpec(const std::string& path, const std::map<std::string, std::string>& parameters) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Status::notFound(fmt::format("job file '{}' does not exist", path));
  }
  if (!std::filesystem::is_regular_file(path, error)) {
    return Status::invalidArgument(fmt::format("job file '{}' is not a regular file", path));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::ioError(fmt::format("cannot open job file '{}'", path));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return Status::ioError(fmt::format("cannot read job file '{}'", path));

  SLUICE_ASSIGN_OR_RETURN(JobSpec job, parseJobSpec(text.str(), parameters, path));
  job.path = path;
  return job;
}

StreamRef parseStreamRef(const std::string& text) {
  size_t dot = text.find('.');
  if (dot == std::string::npos) return {text, ""};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

}  // namespace sluice
