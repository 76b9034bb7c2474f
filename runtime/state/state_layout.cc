#include "runtime/state/state_layout.h"

namespace sluice::state_layout {
namespace {

constexpr std::string_view kMetadataTag = "state-name:";

}  // namespace

void appendUInt16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

void appendUInt32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

void appendUInt64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

uint16_t readUInt16(const char* data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  return static_cast<uint16_t>((bytes[0] << 8) | bytes[1]);
}

uint32_t readUInt32(const char* data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

uint64_t readUInt64(const char* data) { return (uint64_t{readUInt32(data)} << 32) | uint64_t{readUInt32(data + 4)}; }

void appendKeyPrefix(std::string& out, int keyGroup, int state, std::string_view key) {
  appendUInt16(out, static_cast<uint16_t>(keyGroup));
  appendUInt16(out, static_cast<uint16_t>(state));
  appendUInt32(out, static_cast<uint32_t>(key.size()));
  out.append(key);
}

std::string encodeKey(int keyGroup, int state, std::string_view key, std::string_view userKey) {
  std::string out;
  out.reserve(8 + key.size() + userKey.size());
  appendKeyPrefix(out, keyGroup, state, key);
  out.append(userKey);
  return out;
}

std::string stateInKeyGroupPrefix(int keyGroup, int state) {
  std::string out;
  appendUInt16(out, static_cast<uint16_t>(keyGroup));
  appendUInt16(out, static_cast<uint16_t>(state));
  return out;
}

std::string keyGroupStart(int keyGroup) {
  std::string out;
  appendUInt16(out, static_cast<uint16_t>(keyGroup));
  return out;
}

std::string metadataKey(std::string_view name) {
  std::string out = keyGroupStart(kMetadataKeyGroup);
  out.append(kMetadataTag);
  out.append(name);
  return out;
}

bool decodeMetadataKey(std::string_view encoded, std::string_view* name) {
  std::string prefix = keyGroupStart(kMetadataKeyGroup);
  prefix.append(kMetadataTag);
  if (!encoded.starts_with(prefix)) return false;
  *name = encoded.substr(prefix.size());
  return true;
}

bool decodeKey(std::string_view encoded, DecodedKey* decoded) {
  if (encoded.size() < 8) return false;
  decoded->keyGroup = readUInt16(encoded.data());
  decoded->state = readUInt16(encoded.data() + 2);
  uint32_t keyLength = readUInt32(encoded.data() + 4);
  if (encoded.size() - 8 < keyLength) return false;
  decoded->key = encoded.substr(8, keyLength);
  decoded->userKey = encoded.substr(8 + keyLength);
  return true;
}

std::string prefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto last = static_cast<unsigned char>(out.back());
    if (last != 0xFF) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

void appendTimestamped(std::string& out, int64_t expiry, std::string_view value) {
  appendUInt64(out, static_cast<uint64_t>(expiry));
  out.append(value);
}

bool decodeTimestamped(std::string_view stored, int64_t* expiry, std::string_view* value) {
  if (stored.size() < 8) return false;
  *expiry = static_cast<int64_t>(readUInt64(stored.data()));
  *value = stored.substr(8);
  return true;
}

void appendListElement(std::string& out, int64_t expiry, std::string_view element) {
  appendUInt64(out, static_cast<uint64_t>(expiry));
  appendUInt32(out, static_cast<uint32_t>(element.size()));
  out.append(element);
}

bool forEachListElement(std::string_view stored,
                        const std::function<bool(int64_t expiry, std::string_view element)>& visit) {
  size_t position = 0;
  while (position < stored.size()) {
    if (stored.size() - position < 12) return false;
    auto expiry = static_cast<int64_t>(readUInt64(stored.data() + position));
    uint32_t length = readUInt32(stored.data() + position + 8);
    position += 12;
    if (stored.size() - position < length) return false;
    if (!visit(expiry, stored.substr(position, length))) return true;
    position += length;
  }
  return true;
}

int64_t expiryFor(int64_t now, int64_t ttlMillis) {
  if (ttlMillis < 0) return kNoExpiry;
  if (now > kNoExpiry - ttlMillis) return kNoExpiry;
  return now + ttlMillis;
}

}  // namespace sluice::state_layout
