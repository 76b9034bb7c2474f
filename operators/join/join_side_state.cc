// JoinSideState: map-state layout of buffered join rows.
#include "operators/join/join_side_state.h"

#include "operators/join/row_codec.h"

namespace sluice {
namespace {

constexpr size_t kTimeBytes = 8;

Result<int64_t> decodeCount(std::string_view bytes) {
  size_t position = 0;
  uint64_t count = 0;
  if (!RowCodec::readVarint(bytes, position, count) || position != bytes.size()) {
    return Status::corruption("join state: malformed row count");
  }
  return static_cast<int64_t>(count);
}

}  // namespace

Result<JoinSideState> JoinSideState::create(KeyedStateBackend& backend, const std::string& name,
                                            std::optional<std::chrono::milliseconds> ttl) {
  StateDescriptor descriptor{name, StateKind::kMap, ttl};
  SLUICE_ASSIGN_OR_RETURN(int state, backend.registerState(descriptor));
  return JoinSideState(&backend, state);
}

void JoinSideState::entryKey(int64_t time, std::string_view row, std::string& out) {
  out.clear();
  RowCodec::appendOrderedInt64(time, out);
  out.append(row);
}

Status JoinSideState::scan(int keyGroup, std::string_view key, const Visitor& visit) {
  Status failure;
  Status status =
      backend_->scanMap(StateKey{state_, keyGroup, key, {}}, [&](std::string_view userKey, std::string_view value) {
        if (userKey.size() < kTimeBytes) {
          failure = Status::corruption("join state: entry key too short");
          return false;
        }
        Result<int64_t> count = decodeCount(value);
        if (!count.ok()) {
          failure = count.status();
          return false;
        }
        return visit(RowCodec::readOrderedInt64(userKey), userKey.substr(kTimeBytes), *count);
      });
  SLUICE_RETURN_NOT_OK(status);
  return failure;
}

Status JoinSideState::add(int keyGroup, std::string_view key, int64_t time, std::string_view row, int64_t count,
                          bool distinct) {
  entryKey(time, row, scratch_);
  StateKey stateKey{state_, keyGroup, key, scratch_};
  int64_t total = distinct ? 1 : count;
  if (!distinct) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> previous, backend_->get(stateKey));
    if (previous.has_value()) {
      SLUICE_ASSIGN_OR_RETURN(int64_t existing, decodeCount(*previous));
      total += existing;
    }
  }
  std::string value;
  RowCodec::appendVarint(static_cast<uint64_t>(total), value);
  return backend_->put(stateKey, value);
}

Status JoinSideState::put(int keyGroup, std::string_view key, int64_t time, std::string_view row, int64_t count) {
  entryKey(time, row, scratch_);
  std::string value;
  RowCodec::appendVarint(static_cast<uint64_t>(count), value);
  return backend_->put(StateKey{state_, keyGroup, key, scratch_}, value);
}

Status JoinSideState::remove(int keyGroup, std::string_view key, int64_t time, std::string_view row) {
  entryKey(time, row, scratch_);
  return backend_->remove(StateKey{state_, keyGroup, key, scratch_});
}

Status JoinSideState::scanAll(const EntryVisitor& visit) {
  return backend_->scanAll(state_, [&](int keyGroup, std::string_view key, std::string_view userKey, std::string_view) {
    if (userKey.size() >= kTimeBytes) visit(keyGroup, key, RowCodec::readOrderedInt64(userKey));
    return true;
  });
}

}  // namespace sluice
