// Event-time timers of a window operator: an in-memory ordered queue mirrored
// into state, so pending windows survive checkpoints and move with their key
// groups when a job is rescaled.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

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
/// be called for every state update without writing state again.
///
/// State layout (map state `name`): record key = the timer's key, user key =
/// [time: 8 bytes order-preserving][kind: 1 byte][window: 8 bytes], value empty.
/// Thread-safety: one task thread.
class WindowTimerService {
 public:
  /// Registers the timer state in `store` (not owned) and loads every timer it holds.
  Status open(WindowStateStore* store, const std::string& name);
  Status add(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window);
  Status remove(int64_t time, TimerKind kind, int keyGroup, std::string_view key, int64_t window);
  /// Removes and returns the earliest timer with time <= `watermark`, or nullopt.
  Result<std::optional<WindowTimer>> popDue(int64_t watermark);
  size_t size() const { return timers_.size(); }

 private:
  using View = std::tuple<int64_t, uint8_t, int, std::string_view, int64_t>;
  struct Less {
    using is_transparent = void;
    static View view(const WindowTimer& t) {
      return View(t.time, static_cast<uint8_t>(t.kind), t.keyGroup, t.key, t.window);
    }
    static const View& view(const View& v) { return v; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };
  static std::string userKey(int64_t time, TimerKind kind, int64_t window);

  WindowStateStore* store_ = nullptr;
  int state_ = -1;
  std::set<WindowTimer, Less> timers_;
};

}  // namespace sluice::window
