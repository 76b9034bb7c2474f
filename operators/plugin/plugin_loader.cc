// PluginLoader: dlopen, version check, registration and the per-process cache of plugins.
#include "operators/plugin/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/base/logging.h"
#include "runtime/data/key_group.h"

namespace sluice {
namespace {

using VersionFunction = int (*)();
using RegisterFunction = void (*)(PluginRegistrar&);

bool isPluginName(std::string_view name) {
  if (name.empty()) return false;
  auto isLetter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!isLetter(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return isLetter(c) || (c >= '0' && c <= '9'); });
}

/// Closes a library handle unless released; used while a load can still fail.
class LibraryHandle {
 public:
  explicit LibraryHandle(void* handle) : handle_(handle) {}
  ~LibraryHandle() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  LibraryHandle(const LibraryHandle&) = delete;
  LibraryHandle& operator=(const LibraryHandle&) = delete;
  void* get() const { return handle_; }
  void release() { handle_ = nullptr; }

 private:
  void* handle_;
};

Result<std::string> readFile(const std::string& name, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::ioError(fmt::format("plugin '{}': cannot open '{}': {}", name, path, std::strerror(errno)));
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) return Status::ioError(fmt::format("plugin '{}': cannot read '{}'", name, path));
  return bytes.str();
}

}  // namespace

/// Collects one plugin's registrations, remembering the first invalid one.
class PluginRegistrarImpl final : public PluginRegistrar {
 public:
  PluginRegistrarImpl(std::string pluginName, LoadedPlugin& plugin)
      : pluginName_(std::move(pluginName)), plugin_(plugin) {}

  void registerOperator(const std::string& name, OperatorFactory factory) override {
    if (!checkName("operator", name, factory != nullptr)) return;
    plugin_.operators_.emplace(name, std::move(factory));
  }
  void registerProcessFunction(const std::string& name, ProcessFunctionFactory factory) override {
    if (!checkName("process function", name, factory != nullptr)) return;
    plugin_.processFunctions_.emplace(name, std::move(factory));
  }
  void registerAggregate(const std::string& name, window::AggregateFactory factory) override {
    if (!error_.ok()) return;
    if (!isPluginName(name) || factory == nullptr) {
      error_ = invalid("aggregate", name);
      return;
    }
    if (std::find(aggregates_.begin(), aggregates_.end(), name) != aggregates_.end()) {
      error_ = Status::invalidArgument(
          fmt::format("plugin '{}' registers aggregate '{}' twice; names must be unique", pluginName_, name));
      return;
    }
    aggregates_.push_back(name);
    aggregateFactories_.push_back(std::move(factory));
  }

  const Status& error() const { return error_; }
  const std::vector<std::string>& aggregates() const { return aggregates_; }
  std::vector<window::AggregateFactory>& aggregateFactories() { return aggregateFactories_; }

 private:
  Status invalid(std::string_view what, const std::string& name) const {
    return Status::invalidArgument(
        fmt::format("plugin '{}' registers {} '{}' {}: a name is letters, digits and '_', and a factory must be set",
                    pluginName_, what, name, name.empty() ? "with an empty name" : "invalidly"));
  }
  bool checkName(std::string_view what, const std::string& name, bool hasFactory) {
    if (!error_.ok()) return false;
    if (!isPluginName(name) || !hasFactory) {
      error_ = invalid(what, name);
      return false;
    }
    if (plugin_.operators_.count(name) > 0 || plugin_.processFunctions_.count(name) > 0) {
      error_ = Status::invalidArgument(fmt::format(
          "plugin '{}' registers '{}' twice; operators and process functions share one namespace", pluginName_, name));
      return false;
    }
    return true;
  }

  std::string pluginName_;
  LoadedPlugin& plugin_;
  Status error_;
  std::vector<std::string> aggregates_;
  std::vector<window::AggregateFactory> aggregateFactories_;
};

const OperatorFactory* LoadedPlugin::findOperator(std::string_view name) const {
  auto it = operators_.find(name);
  return it == operators_.end() ? nullptr : &it->second;
}

const ProcessFunctionFactory* LoadedPlugin::findProcessFunction(std::string_view name) const {
  auto it = processFunctions_.find(name);
  return it == processFunctions_.end() ? nullptr : &it->second;
}

std::vector<std::string> LoadedPlugin::operatorNames() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : operators_) names.push_back(name);
  for (const auto& [name, factory] : processFunctions_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> LoadedPlugin::processFunctionNames() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : processFunctions_) names.push_back(name);
  return names;
}

PluginLoader::PluginLoader() : builtins_(std::make_shared<LoadedPlugin>()) {}

PluginLoader& PluginLoader::instance() {
  static PluginLoader loader;
  return loader;
}

void PluginLoader::registerBuiltinProcessFunction(const std::string& name, ProcessFunctionFactory factory) {
  std::lock_guard lock(mutex_);
  // Copy on write: snapshots handed out earlier stay valid and unchanged.
  auto next = std::make_shared<LoadedPlugin>(*builtins_);
  next->processFunctions_[name] = std::move(factory);
  builtins_ = std::move(next);
}

std::shared_ptr<const LoadedPlugin> PluginLoader::builtins() const {
  std::lock_guard lock(mutex_);
  return builtins_;
}

Result<std::shared_ptr<const LoadedPlugin>> PluginLoader::load(const std::string& name, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(path, error)) {
    return Status::notFound(
        fmt::format("plugin '{}': cannot open '{}': {}", name, path, error ? error.message() : std::strerror(ENOENT)));
  }
  if (!fs::is_regular_file(path, error)) {
    return Status::invalidArgument(fmt::format("plugin '{}': cannot open '{}': not a regular file", name, path));
  }
  const std::string canonical = fs::canonical(path, error).string();
  if (error) return Status::ioError(fmt::format("plugin '{}': cannot open '{}': {}", name, path, error.message()));
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, readFile(name, canonical));
  const uint64_t contentHash = hashBytes(bytes);

  std::lock_guard lock(mutex_);
  auto cached = byPath_.find(canonical);
  if (cached != byPath_.end()) {
    if (cached->second->contentHash() == contentHash) return cached->second;
    return Status::invalidArgument(
        fmt::format("plugin '{}': '{}' changed since this process loaded it; restart the process to load the new build",
                    name, canonical));
  }
  // The same build under another path (an uploaded copy stored by content hash): load each version once.
  for (const auto& [loadedPath, loaded] : byPath_) {
    if (loaded->contentHash() == contentHash) {
      byPath_.emplace(canonical, loaded);
      return loaded;
    }
  }

  LibraryHandle handle(dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) {
    const char* why = dlerror();
    return Status::invalidArgument(
        fmt::format("plugin '{}': cannot load '{}': {}", name, canonical, why != nullptr ? why : "unknown error"));
  }
  auto version = reinterpret_cast<VersionFunction>(dlsym(handle.get(), SLUICE_PLUGIN_VERSION_SYMBOL));
  if (version == nullptr) {
    return Status::invalidArgument(fmt::format(
        "plugin '{}': '{}' is not a Sluice plugin: it exports no {}(); define its entry points with SLUICE_PLUGIN",
        name, canonical, SLUICE_PLUGIN_VERSION_SYMBOL));
  }
  const int pluginVersion = version();
  if (pluginVersion != kSluicePluginApiVersion) {
    return Status::invalidArgument(
        fmt::format("plugin '{}' was built against plugin API version {}, this engine speaks version {}; rebuild it",
                    name, pluginVersion, kSluicePluginApiVersion));
  }
  auto registerFunction = reinterpret_cast<RegisterFunction>(dlsym(handle.get(), SLUICE_PLUGIN_REGISTER_SYMBOL));
  if (registerFunction == nullptr) {
    return Status::invalidArgument(
        fmt::format("plugin '{}': '{}' exports no {}(); define it with SLUICE_PLUGIN(registrar) {{ ... }}", name,
                    canonical, SLUICE_PLUGIN_REGISTER_SYMBOL));
  }

  Status failure;
  {
    // Everything the plugin created is destroyed before a failed load closes
    // the library: the factories' code lives in it.
    auto plugin = std::make_shared<LoadedPlugin>();
    plugin->path_ = canonical;
    plugin->contentHash_ = contentHash;
    PluginRegistrarImpl registrar(name, *plugin);
    try {
      registerFunction(registrar);
      failure = registrar.error();
    } catch (const std::exception& exception) {
      failure = Status::userCodeError(
          fmt::format("plugin '{}': {}() threw: {}", name, SLUICE_PLUGIN_REGISTER_SYMBOL, exception.what()));
    } catch (...) {
      failure = Status::userCodeError(
          fmt::format("plugin '{}': {}() threw a non-standard exception", name, SLUICE_PLUGIN_REGISTER_SYMBOL));
    }
    if (failure.ok()) {
      std::vector<std::string> known = window::AggregateRegistry::instance().names();
      for (const std::string& aggregate : registrar.aggregates()) {
        if (std::find(known.begin(), known.end(), aggregate) != known.end()) {
          failure = Status::invalidArgument(fmt::format(
              "plugin '{}' registers aggregate '{}', which the engine already has; rename it", name, aggregate));
          break;
        }
      }
    }
    if (failure.ok()) {
      for (size_t i = 0; i < registrar.aggregates().size(); ++i) {
        window::AggregateRegistry::instance().registerAggregate(registrar.aggregates()[i],
                                                                std::move(registrar.aggregateFactories()[i]));
      }
      plugin->aggregates_ = registrar.aggregates();
      handle.release();
      byPath_.emplace(canonical, plugin);
      logger("plugin")->debug("loaded plugin '{}' from {} (operators: {}; aggregates: {})", name, canonical,
                              fmt::join(plugin->operatorNames(), ", "), fmt::join(plugin->aggregates_, ", "));
      return std::shared_ptr<const LoadedPlugin>(plugin);
    }
  }
  return failure;
}

Result<std::map<std::string, std::shared_ptr<const LoadedPlugin>>> loadJobPlugins(const JobSpec& job,
                                                                                  const std::string& workingDirectory) {
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> plugins;
  for (const PluginRef& reference : job.plugins) {
    std::filesystem::path path(reference.path);
    if (path.is_relative() && !workingDirectory.empty()) path = std::filesystem::path(workingDirectory) / path;
    SLUICE_ASSIGN_OR_RETURN(auto plugin, PluginLoader::instance().load(reference.name, path.string()));
    plugins.emplace(reference.name, std::move(plugin));
  }
  return plugins;
}

Result<std::map<std::string, std::shared_ptr<const LoadedPlugin>>> loadJobPlugins(
    const JobSpec& job, const std::string& workingDirectory, const std::map<std::string, std::string>& localFiles) {
  (void)workingDirectory;
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> plugins;
  for (const PluginRef& reference : job.plugins) {
    auto found = localFiles.find(reference.name);
    if (found == localFiles.end()) {
      return Status::invalidArgument("plugin '" + reference.name + "' (" + reference.path +
                                     ") was not uploaded with the job; submit it with the sluice client, which "
                                     "uploads the files the job's plugins: section names");
    }
    SLUICE_ASSIGN_OR_RETURN(auto plugin, PluginLoader::instance().load(reference.name, found->second));
    plugins.emplace(reference.name, std::move(plugin));
  }
  return plugins;
}

}  // namespace sluice
