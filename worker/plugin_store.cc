#include "worker/plugin_store.h"

#include <xxhash.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/checkpoint/checkpoint_storage.h"

namespace sluice {
namespace {

constexpr size_t kMaxPluginBytes = size_t{48} << 20;  // within one control message

}  // namespace

std::string pluginContentHash(const std::string& content) {
  XXH128_hash_t hash = XXH3_128bits(content.data(), content.size());
  char text[33];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return text;
}

std::string pluginPath(const std::string& directory, const std::string& hash) { return directory + "/" + hash + ".so"; }

bool isPluginHash(const std::string& text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> storePlugin(const std::string& directory, const std::string& content) {
  if (content.empty()) return Status::invalidArgument("an uploaded plugin library is empty");
  if (content.size() > kMaxPluginBytes) {
    return Status::invalidArgument("an uploaded plugin library has " + std::to_string(content.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxPluginBytes));
  }
  std::string hash = pluginContentHash(content);
  std::string path = pluginPath(directory, hash);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) SLUICE_RETURN_NOT_OK(writeFileAtomically(path, content));
  return hash;
}

Result<std::string> readStoredPlugin(const std::string& directory, const std::string& hash) {
  if (!isPluginHash(hash)) return Status::invalidArgument("'" + hash + "' is not a plugin content hash");
  std::ifstream in(pluginPath(directory, hash), std::ios::binary);
  if (!in) return Status::notFound("no stored plugin with hash " + hash);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace sluice
