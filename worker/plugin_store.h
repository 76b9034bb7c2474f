// PluginStore: plugin libraries kept on local disk under names derived from
// their content (never a name or path a client sent), for the job manager's
// store of uploads and each worker's cache of fetched plugins.
#pragma once

#include <string>

#include "runtime/base/result.h"

namespace sluice {

/// The content hash of a library: 32 lowercase hex digits (XXH3-128).
std::string pluginContentHash(const std::string& content);

/// `<directory>/<hash>.so`.
std::string pluginPath(const std::string& directory, const std::string& hash);

/// Stores `content` as `<directory>/<hash>.so` (atomically; kept if it is
/// already there) and returns the hash. Refuses an empty or oversized library.
Result<std::string> storePlugin(const std::string& directory, const std::string& content);

/// The stored library with `hash`. InvalidArgument for something that is not
/// a hash (so it can never name another file), NotFound when absent.
Result<std::string> readStoredPlugin(const std::string& directory, const std::string& hash);

/// True when `text` has the form of a content hash.
bool isPluginHash(const std::string& text);

}  // namespace sluice
