// Window shapes (tumbling, hopping, session) and the arithmetic that maps event
// times to windows and to slices (panes) of windows.
#pragma once

#include <cstdint>
#include <limits>
#include <numeric>
#include <string>

namespace sluice::window {

/// Floor division that rounds towards negative infinity (event times may be negative).
inline int64_t floorDiv(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

/// a + b, clamped to the int64 range (for `end - 1 + lateness` near kMaxWatermark).
inline int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

/// A window shape, as Flink's tumbling/sliding/session event-time assigners
/// (offset 0). Tumbling is a hop whose slide equals its size.
///
/// Hopping windows are evaluated by slicing (Flink's "window slicing"): time
/// is cut into slices of gcd(size, slide); a record updates exactly one slice
/// and a window's result merges the size / gcd slices it covers, so a record
/// costs one state update however many windows it belongs to.
struct WindowSpec {
  enum class Kind { kTumble, kHop, kSession };
  Kind kind = Kind::kTumble;
  int64_t size = 0;   // tumble/hop: window length
  int64_t slide = 0;  // tumble: == size
  int64_t gap = 0;    // session: inactivity gap

  static WindowSpec tumble(int64_t size) { return {Kind::kTumble, size, size, 0}; }
  static WindowSpec hop(int64_t size, int64_t slide) { return {Kind::kHop, size, slide, 0}; }
  static WindowSpec session(int64_t gap) { return {Kind::kSession, 0, 0, gap}; }

  bool isSession() const { return kind == Kind::kSession; }
  /// Slice length: gcd(size, slide).
  int64_t sliceSize() const { return std::gcd(size, slide); }
  /// Start of the slice holding `time`.
  int64_t sliceStart(int64_t time) const { return floorDiv(time, sliceSize()) * sliceSize(); }
  /// Start of the last (latest) window containing `time`; that window contains
  /// `time` only if `time < lastWindowStart(time) + size` (false inside the gaps
  /// of a hop whose slide exceeds its size).
  int64_t lastWindowStart(int64_t time) const { return floorDiv(time, slide) * slide; }
  /// Start of the first window containing the slice starting at `slice`.
  int64_t firstWindowStartOfSlice(int64_t slice) const {
    return -floorDiv(-(slice + sliceSize() - size), slide) * slide;  // ceil((slice + g - size) / slide) * slide
  }
  /// "tumble 10000ms", "hop 10000ms slide 2000ms", "session gap 10000ms".
  std::string toString() const {
    switch (kind) {
      case Kind::kTumble: return "tumble " + std::to_string(size) + "ms";
      case Kind::kHop: return "hop " + std::to_string(size) + "ms slide " + std::to_string(slide) + "ms";
      case Kind::kSession: return "session gap " + std::to_string(gap) + "ms";
    }
    return "";
  }
};

}  // namespace sluice::window
