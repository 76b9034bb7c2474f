// Loading C++ plugins: dlopen a shared library once per process, check its API
// version, run its registration and keep what it registered.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/job/job_spec.h"
#include "sluice/plugin.h"

namespace sluice {

/// What one plugin registered: its operators, keyed process functions and
/// aggregates (the aggregates also went into window::AggregateRegistry).
/// Immutable once loaded; safe to share between threads.
class LoadedPlugin {
 public:
  /// The canonical path of the library ("" for the built-in set).
  const std::string& path() const { return path_; }
  uint64_t contentHash() const { return contentHash_; }

  /// nullptr when absent.
  const OperatorFactory* findOperator(std::string_view name) const;
  const ProcessFunctionFactory* findProcessFunction(std::string_view name) const;

  /// Operators and process functions (one namespace), sorted.
  std::vector<std::string> operatorNames() const;
  std::vector<std::string> processFunctionNames() const;
  std::vector<std::string> aggregateNames() const { return aggregates_; }

 private:
  friend class PluginLoader;
  friend class PluginRegistrarImpl;

  std::string path_;
  uint64_t contentHash_ = 0;
  std::map<std::string, OperatorFactory, std::less<>> operators_;
  std::map<std::string, ProcessFunctionFactory, std::less<>> processFunctions_;
  std::vector<std::string> aggregates_;
};

/// Loads plugins, once per build per process (a copy of a loaded library under
/// another path, e.g. an uploaded plugin stored by content hash, is the same
/// plugin). Libraries are never
/// unloaded: operators, functions and aggregates they created may live as long
/// as the process. A library whose file changed after it was loaded is refused
/// (a process cannot load two builds of one path); restart the process.
///
/// Thread-safe.
class PluginLoader {
 public:
  static PluginLoader& instance();

  /// Loads the library at `path` (absolute, or relative to the process's
  /// working directory) for the plugin the job calls `name` (used in errors).
  /// Checks, in order: the file exists and opens with dlopen(RTLD_NOW |
  /// RTLD_LOCAL); it exports `sluice_plugin_api_version` returning
  /// kSluicePluginApiVersion; it exports `sluice_plugin_register`, which
  /// registers valid, unique names and does not throw. Every failure is one
  /// line naming the plugin, e.g. "plugin 'example': cannot open '/x/libx.so':
  /// No such file or directory".
  Result<std::shared_ptr<const LoadedPlugin>> load(const std::string& name, const std::string& path);

  /// Process functions linked into the engine itself (used by `type: process`
  /// nodes without `plugin:`), e.g. for tests or statically linked jobs.
  /// Registering a name again replaces it.
  void registerBuiltinProcessFunction(const std::string& name, ProcessFunctionFactory factory);
  /// A snapshot of the built-in process functions.
  std::shared_ptr<const LoadedPlugin> builtins() const;

 private:
  PluginLoader();

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> byPath_;
  std::shared_ptr<LoadedPlugin> builtins_;
};

/// Loads every plugin of `job.plugins`, relative paths resolved against
/// `workingDirectory` (the process's when empty); returns them by job name.
/// With `localFiles` (plugin name → a file this process stored, e.g. an
/// uploaded library kept under its content hash), every plugin must be there
/// and the job's paths are not used. The first failure is returned, naming the
/// plugin.
Result<std::map<std::string, std::shared_ptr<const LoadedPlugin>>> loadJobPlugins(
    const JobSpec& job, const std::string& workingDirectory, const std::map<std::string, std::string>& localFiles);
Result<std::map<std::string, std::shared_ptr<const LoadedPlugin>>> loadJobPlugins(const JobSpec& job,
                                                                                  const std::string& workingDirectory);

}  // namespace sluice
