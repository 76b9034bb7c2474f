// WindowTimerService: ordered in-memory timers, written back to state on flush.
#include "operators/window/window_timer_service.h"

#include "operators/window/row_codec.h"

namespace sluice::window {
namespace {

/// Removals of stored timers are written to the store once this many accumulate (bounds memory without checkpoints).
constexpr size_t kMaxForgotten = 65536;

}  // namespace

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
  forgotten_.clear();
  unpersisted_ = 0;
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
        timers_.insert(Entry{std::move(timer), true});
        return true;
      }));
  if (malformed) return Status::corruption("window state: malformed timer entry in '" + name + "'");
  return Status::OK();
}

Status WindowTimerService::add(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window) {
  const View view(time, static_cast<uint8_t>(kind), keyGroup, key, window);
  auto it = timers_.lower_bound(view);
  if (it != timers_.end() && Less::view(*it) == view) return Status::OK();
  timers_.emplace_hint(it, Entry{WindowTimer{time, kind, keyGroup, std::string(key), window}, false});
  ++unpersisted_;
  return Status::OK();
}

Status WindowTimerService::forget(WindowTimer timer) {
  forgotten_.push_back(std::move(timer));
  if (forgotten_.size() < kMaxForgotten) return Status::OK();
  for (const WindowTimer& old : forgotten_) {
    SLUICE_RETURN_NOT_OK(
        store_->remove(StateKey{state_, old.keyGroup, old.key, userKey(old.time, old.kind, old.window)}));
  }
  forgotten_.clear();
  return Status::OK();
}

Status WindowTimerService::remove(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window) {
  auto it = timers_.find(View(time, static_cast<uint8_t>(kind), keyGroup, key, window));
  if (it == timers_.end()) return Status::OK();
  auto node = timers_.extract(it);
  if (!node.value().persisted) {
    --unpersisted_;
    return Status::OK();
  }
  return forget(std::move(node.value().timer));
}

Result<std::optional<WindowTimer>> WindowTimerService::popDue(int64_t watermark) {
  if (timers_.empty() || timers_.begin()->timer.time > watermark) return std::optional<WindowTimer>();
  auto node = timers_.extract(timers_.begin());
  if (node.value().persisted) {
    SLUICE_RETURN_NOT_OK(forget(node.value().timer));
  } else {
    --unpersisted_;
  }
  return std::optional<WindowTimer>(std::move(node.value().timer));
}

Status WindowTimerService::flush() {
  // Removals first: a timer removed and added again since the last flush is then written back.
  for (const WindowTimer& old : forgotten_) {
    SLUICE_RETURN_NOT_OK(
        store_->remove(StateKey{state_, old.keyGroup, old.key, userKey(old.time, old.kind, old.window)}));
  }
  forgotten_.clear();
  if (unpersisted_ == 0) return Status::OK();
  for (const Entry& entry : timers_) {
    if (entry.persisted) continue;
    const WindowTimer& timer = entry.timer;
    SLUICE_RETURN_NOT_OK(
        store_->put(StateKey{state_, timer.keyGroup, timer.key, userKey(timer.time, timer.kind, timer.window)}, ""));
    entry.persisted = true;
  }
  unpersisted_ = 0;
  return Status::OK();
}

void WindowTimerService::forEach(const std::function<void(const WindowTimer&)>& visit) const {
  for (const Entry& entry : timers_) visit(entry.timer);
}

}  // namespace sluice::window
