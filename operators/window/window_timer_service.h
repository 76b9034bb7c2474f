// Event-time timers of window operators: in-memory ordered queues (one entry
// per timer, or one bucket of keys per window) written back to state at
// checkpoints, so pending windows survive checkpoints and move with their key
// groups when a job is rescaled.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "operators/window/window_state_store.h"

namespace sluice::window {

/// kFire emits a window's result; kCleanup drops its state after the allowed lateness.
enum class TimerKind : uint8_t { kFire = 0, kCleanup = 1 };

/// A timer for window `window` (identified by its end) of one key, due when the
/// watermark reaches `time`.
struct WindowTimer {
  int64_t time = 0;
  TimerKind kind = TimerKind::kFire;
  int keyGroup = 0;
  std::string key;
  int64_t window = 0;
};

/// Timers ordered by (time, kind, key group, key, window): at one time every
/// fire precedes every cleanup. Adding an existing timer is a no-op, so it can
/// be called for every state update.
///
/// Persistence is write-behind: add/remove/popDue change only the in-memory
/// queue (no state access per timer); `flush` writes the changes since the
/// last flush into the store. Call it from snapshotState so the store holds
/// exactly the pending timers when the backend is snapshotted. The queue holds
/// every pending timer in memory (one small entry per (key, window)).
///
/// State layout (map state `name`): record key = the timer's key, user key =
/// [time: 8 bytes order-preserving][kind: 1 byte][window: 8 bytes], value empty.
/// Thread-safety: one task thread.
class WindowTimerService {
 public:
  /// Registers the timer state in `store` (not owned) and loads every timer it
  /// holds; with `persist = false` also removes them from the store, and the
  /// timers are never written to it again (flush does nothing; the owner
  /// rebuilds them from its own state).
  Status open(WindowStateStore* store, const std::string& name, bool persist = true);
  Status add(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window);
  Status remove(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window);
  /// Removes and returns the earliest timer with time <= `watermark`, or nullopt.
  Result<std::optional<WindowTimer>> popDue(int64_t watermark);
  /// Writes every change since the last flush (or open) into the store.
  Status flush();
  /// Calls `visit` for every pending timer in order.
  void forEach(const std::function<void(const WindowTimer&)>& visit) const;
  size_t size() const { return timers_.size(); }

 private:
  using View = std::tuple<int64_t, uint8_t, int, std::string_view, int64_t>;
  struct Entry {
    WindowTimer timer;
    mutable bool persisted = false;  // the store holds this timer
  };
  struct Less {
    using is_transparent = void;
    static View view(const Entry& e) {
      return View(e.timer.time, static_cast<uint8_t>(e.timer.kind), e.timer.keyGroup, e.timer.key, e.timer.window);
    }
    static const View& view(const View& v) { return v; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };
  /// Records that a timer the store holds was removed from the queue.
  Status forget(WindowTimer timer);

  WindowStateStore* store_ = nullptr;
  int state_ = -1;
  bool persist_ = true;
  std::set<Entry, Less> timers_;
  size_t unpersisted_ = 0;              // entries of timers_ not yet in the store
  std::vector<WindowTimer> forgotten_;  // removed from timers_ but still in the store
};

/// The timers of sliced (tumbling/hopping) windows, bucketed per (time, kind,
/// window): one bucket holds the keys whose window is due at that time, so an
/// add is a vector append (no per-timer tree node) and firing hands out a
/// whole window's keys at once. Buckets fire in (time, kind, window) order and
/// keys within a bucket in (key group, key) order, the order of
/// WindowTimerService. Adding a timer twice is allowed and cheap: duplicates
/// are dropped when a bucket is fired or flushed. There is no remove (sliced
/// windows never cancel timers).
///
/// Persistence is write-behind and uses WindowTimerService's state layout, so
/// either class reads what the other wrote. An owner that can rebuild its
/// timers from its own state opens them with `persist = false`: the timers
/// then live in memory only (timers a store still holds from an older layout
/// are loaded once and removed from it). Thread-safety: one task thread.
class WindowTimerBuckets {
 public:
  /// One key of a bucket.
  struct KeyTimer {
    int keyGroup = 0;
    bool persisted = false;  // the store holds this timer
    std::string key;
  };
  /// A due bucket: every key whose window `window` is due at `time`.
  struct Due {
    int64_t time = 0;
    TimerKind kind = TimerKind::kFire;
    int64_t window = 0;
    std::vector<KeyTimer> keys;  // ordered by (key group, key), no duplicates
  };

  /// Registers the timer state in `store` (not owned) and loads every timer it
  /// holds; with `persist = false` also removes them from the store, and the
  /// timers are never written to it again (flush does nothing).
  Status open(WindowStateStore* store, const std::string& name, bool persist = true);
  void add(int64_t time, TimerKind kind, int64_t window, int keyGroup, std::string_view key);
  /// Moves the earliest bucket with time <= `watermark` into `due` (reusing its
  /// memory); false when none is due.
  Result<bool> popDue(int64_t watermark, Due& due);
  /// Writes every change since the last flush (or open) into the store.
  Status flush();
  /// Calls `visit(time, kind, window)` for every bucket in order.
  void forEachWindow(const std::function<void(int64_t time, TimerKind kind, int64_t window)>& visit) const;
  /// Pending timers (after dropping duplicates).
  size_t size();

 private:
  using BucketId = std::tuple<int64_t, uint8_t, int64_t>;  // time, kind, window
  struct Bucket {
    std::vector<KeyTimer> keys;
    size_t normalized = 0;     // keys[0, normalized) are sorted and distinct
    bool unpersisted = false;  // keys may hold timers the store does not
  };
  /// Sorts `bucket`'s keys and drops duplicates (keeping the persisted copy).
  static void normalize(Bucket& bucket);
  Status writeForgotten();

  WindowStateStore* store_ = nullptr;
  int state_ = -1;
  bool persist_ = true;
  std::map<BucketId, Bucket> buckets_;
  std::map<BucketId, Bucket>::iterator last_ = buckets_.end();  // the bucket of the last add
  std::vector<WindowTimer> forgotten_;                          // fired timers the store still holds
};

}  // namespace sluice::window
