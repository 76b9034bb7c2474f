// WindowTimerService: ordered in-memory timers with write-through to state.
#include "operators/window/window_timer_service.h"

#include "operators/window/row_codec.h"

namespace sluice::window {

std::string WindowTimerService::userKey(int64_t time, TimerKind kind, int64_t window) {
  std::string out;
  out.reserve(17);
  appendInt64BigEndianOrdered(out, time);
  out.push_back(static_cast<char>(kind));
  appendInt64BigEndianOrdered(out, window);
  return out;
}

Status WindowTimerService::open(WindowStateStore* store, const std::string& name) {
  store_ = store;
  SLUICE_ASSIGN_OR_RETURN(state_, store_->registerState(name, StateKind::kMap));
  timers_.clear();
  bool malformed = false;
  SLUICE_RETURN_NOT_OK(
      store_->scanAll(state_, [&](int keyGroup, std::string_view key, std::string_view userKey, std::string_view) {
        if (userKey.size() != 17) {
          malformed = true;
          return false;
        }
        WindowTimer timer;
        timer.time = readInt64BigEndianOrdered(userKey.data());
        timer.kind = static_cast<TimerKind>(userKey[8]);
        timer.keyGroup = keyGroup;
        timer.key.assign(key);
        timer.window = readInt64BigEndianOrdered(userKey.data() + 9);
        timers_.insert(std::move(timer));
        return true;
      }));
  if (malformed) return Status::corruption("window state: malformed timer entry in '" + name + "'");
  return Status::OK();
}

Status WindowTimerService::add(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window) {
  View view(time, static_cast<uint8_t>(kind), keyGroup, key, window);
  if (timers_.find(view) != timers_.end()) return Status::OK();
  timers_.insert(WindowTimer{time, kind, keyGroup, std::string(key), window});
  return store_->put(StateKey{state_, keyGroup, key, userKey(time, kind, window)}, "");
}

Status WindowTimerService::remove(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window) {
  auto it = timers_.find(View(time, static_cast<uint8_t>(kind), keyGroup, key, window));
  if (it == timers_.end()) return Status::OK();
  timers_.erase(it);
  return store_->remove(StateKey{state_, keyGroup, key, userKey(time, kind, window)});
}

Result<std::optional<WindowTimer>> WindowTimerService::popDue(int64_t watermark) {
  if (timers_.empty() || timers_.begin()->time > watermark) return std::optional<WindowTimer>();
  auto node = timers_.extract(timers_.begin());
  WindowTimer timer = std::move(node.value());
  SLUICE_RETURN_NOT_OK(
      store_->remove(StateKey{state_, timer.keyGroup, timer.key, userKey(timer.time, timer.kind, timer.window)}));
  return std::optional<WindowTimer>(std::move(timer));
}

}  // namespace sluice::window
