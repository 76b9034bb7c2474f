// WindowTimerService and WindowTimerBuckets: ordered in-memory timers, written
// back to state on flush.
#include "operators/window/window_timer_service.h"

#include <algorithm>

#include "operators/window/row_codec.h"

namespace sluice::window {
namespace {

/// Removals of stored timers are written to the store once this many accumulate (bounds memory without checkpoints).
constexpr size_t kMaxForgotten = 65536;

/// The user key of a timer in the timer state: [time][kind][window].
std::string userKey(int64_t time, TimerKind kind, int64_t window) {
  std::string out;
  out.reserve(17);
  appendInt64BigEndianOrdered(out, time);
  out.push_back(static_cast<char>(kind));
  appendInt64BigEndianOrdered(out, window);
  return out;
}

/// Visits every timer stored in `state`; Corruption when an entry is malformed.
Status scanTimers(WindowStateStore& store, int state, const std::string& name,
                  const std::function<void(WindowTimer&&)>& visit) {
  bool malformed = false;
  SLUICE_RETURN_NOT_OK(
      store.scanAll(state, [&](int keyGroup, std::string_view key, std::string_view timerKey, std::string_view) {
        if (timerKey.size() != 17 || static_cast<uint8_t>(timerKey[8]) > static_cast<uint8_t>(TimerKind::kCleanup)) {
          malformed = true;
          return false;
        }
        WindowTimer timer;
        timer.time = readInt64BigEndianOrdered(timerKey.data());
        timer.kind = static_cast<TimerKind>(timerKey[8]);
        timer.keyGroup = keyGroup;
        timer.key.assign(key);
        timer.window = readInt64BigEndianOrdered(timerKey.data() + 9);
        visit(std::move(timer));
        return true;
      }));
  if (malformed) return Status::corruption("window state: malformed timer entry in '" + name + "'");
  return Status::OK();
}

}  // namespace

Status WindowTimerService::open(WindowStateStore* store, const std::string& name, bool persist) {
  store_ = store;
  persist_ = persist;
  SLUICE_ASSIGN_OR_RETURN(state_, store_->registerState(name, StateKind::kMap));
  timers_.clear();
  forgotten_.clear();
  unpersisted_ = 0;
  SLUICE_RETURN_NOT_OK(scanTimers(*store_, state_, name, [this](WindowTimer&& timer) {
    if (!persist_) forgotten_.push_back(timer);
    timers_.insert(Entry{std::move(timer), persist_});
  }));
  if (persist_) return Status::OK();
  // Not persisting: the store keeps none of the timers.
  for (const WindowTimer& old : forgotten_) {
    SLUICE_RETURN_NOT_OK(
        store_->remove(StateKey{state_, old.keyGroup, old.key, userKey(old.time, old.kind, old.window)}));
  }
  forgotten_.clear();
  return Status::OK();
}

Status WindowTimerService::add(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window) {
  const View view(time, static_cast<uint8_t>(kind), keyGroup, key, window);
  auto it = timers_.lower_bound(view);
  if (it != timers_.end() && Less::view(*it) == view) return Status::OK();
  timers_.emplace_hint(it, Entry{WindowTimer{time, kind, keyGroup, std::string(key), window}, false});
  if (persist_) ++unpersisted_;
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
    if (persist_) --unpersisted_;
    return Status::OK();
  }
  return forget(std::move(node.value().timer));
}

Result<std::optional<WindowTimer>> WindowTimerService::popDue(int64_t watermark) {
  if (timers_.empty() || timers_.begin()->timer.time > watermark) return std::optional<WindowTimer>();
  auto node = timers_.extract(timers_.begin());
  if (node.value().persisted) {
    SLUICE_RETURN_NOT_OK(forget(node.value().timer));
  } else if (persist_) {
    --unpersisted_;
  }
  return std::optional<WindowTimer>(std::move(node.value().timer));
}

Status WindowTimerService::flush() {
  if (!persist_) return Status::OK();
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

Status WindowTimerBuckets::open(WindowStateStore* store, const std::string& name, bool persist) {
  store_ = store;
  persist_ = persist;
  SLUICE_ASSIGN_OR_RETURN(state_, store_->registerState(name, StateKind::kMap));
  buckets_.clear();
  last_ = buckets_.end();
  forgotten_.clear();
  SLUICE_RETURN_NOT_OK(scanTimers(*store_, state_, name, [this](WindowTimer&& timer) {
    Bucket& bucket = buckets_[BucketId(timer.time, static_cast<uint8_t>(timer.kind), timer.window)];
    bucket.keys.push_back(KeyTimer{timer.keyGroup, persist_, timer.key});
    if (!persist_) forgotten_.push_back(std::move(timer));
  }));
  for (auto& [id, bucket] : buckets_) normalize(bucket);
  // Not persisting: the store keeps none of the timers.
  return writeForgotten();
}

void WindowTimerBuckets::add(int64_t time, TimerKind kind, int64_t window, int keyGroup, std::string_view key) {
  const BucketId id(time, static_cast<uint8_t>(kind), window);
  if (last_ == buckets_.end() || last_->first != id) last_ = buckets_.try_emplace(id).first;
  last_->second.unpersisted = persist_;
  KeyTimer& timer = last_->second.keys.emplace_back();
  timer.keyGroup = keyGroup;
  timer.key.assign(key);
}

void WindowTimerBuckets::normalize(Bucket& bucket) {
  std::vector<KeyTimer>& keys = bucket.keys;
  if (bucket.normalized == keys.size()) return;
  // Persisted copies sort first among equal keys, so unique keeps them.
  auto less = [](const KeyTimer& a, const KeyTimer& b) {
    if (a.keyGroup != b.keyGroup) return a.keyGroup < b.keyGroup;
    const int order = a.key.compare(b.key);
    return order != 0 ? order < 0 : a.persisted > b.persisted;
  };
  auto equal = [](const KeyTimer& a, const KeyTimer& b) { return a.keyGroup == b.keyGroup && a.key == b.key; };
  const auto middle = keys.begin() + static_cast<std::ptrdiff_t>(bucket.normalized);
  std::sort(middle, keys.end(), less);
  std::inplace_merge(keys.begin(), middle, keys.end(), less);
  keys.erase(std::unique(keys.begin(), keys.end(), equal), keys.end());
  bucket.normalized = keys.size();
}

Status WindowTimerBuckets::writeForgotten() {
  for (const WindowTimer& old : forgotten_) {
    SLUICE_RETURN_NOT_OK(
        store_->remove(StateKey{state_, old.keyGroup, old.key, userKey(old.time, old.kind, old.window)}));
  }
  forgotten_.clear();
  return Status::OK();
}

Result<bool> WindowTimerBuckets::popDue(int64_t watermark, Due& due) {
  if (buckets_.empty() || std::get<0>(buckets_.begin()->first) > watermark) return false;
  auto it = buckets_.begin();
  if (last_ == it) last_ = buckets_.end();
  normalize(it->second);
  due.time = std::get<0>(it->first);
  due.kind = static_cast<TimerKind>(std::get<1>(it->first));
  due.window = std::get<2>(it->first);
  due.keys.swap(it->second.keys);
  buckets_.erase(it);
  for (const KeyTimer& timer : due.keys) {
    if (timer.persisted) forgotten_.push_back(WindowTimer{due.time, due.kind, timer.keyGroup, timer.key, due.window});
  }
  if (forgotten_.size() >= kMaxForgotten) SLUICE_RETURN_NOT_OK(writeForgotten());
  return true;
}

Status WindowTimerBuckets::flush() {
  if (!persist_) return Status::OK();
  // Removals first, as WindowTimerService::flush.
  SLUICE_RETURN_NOT_OK(writeForgotten());
  for (auto& [id, bucket] : buckets_) {
    if (!bucket.unpersisted) continue;
    normalize(bucket);
    bucket.unpersisted = false;
    const auto& [time, kind, window] = id;
    const std::string timerKey = userKey(time, static_cast<TimerKind>(kind), window);
    for (KeyTimer& timer : bucket.keys) {
      if (timer.persisted) continue;
      SLUICE_RETURN_NOT_OK(store_->put(StateKey{state_, timer.keyGroup, timer.key, timerKey}, ""));
      timer.persisted = true;
    }
  }
  return Status::OK();
}

void WindowTimerBuckets::forEachWindow(
    const std::function<void(int64_t time, TimerKind kind, int64_t window)>& visit) const {
  for (const auto& [id, bucket] : buckets_)
    visit(std::get<0>(id), static_cast<TimerKind>(std::get<1>(id)), std::get<2>(id));
}

size_t WindowTimerBuckets::size() {
  size_t total = 0;
  for (auto& [id, bucket] : buckets_) {
    normalize(bucket);
    total += bucket.keys.size();
  }
  return total;
}

}  // namespace sluice::window
