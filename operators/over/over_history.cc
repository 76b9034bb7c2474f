// OverHistory: incremental look-back aggregates over one key's entries and the
// state encoding
//   [last time: 8 BE-ordered][format: 1][inputs: u32][aggregates: u32]
//   [base: u64][entries: u32][times: 8 each]
//   per input: [presence: 1 per entry][values of present entries: 8 bytes, or u32 length + bytes]
//   per aggregate: [start: u64][count: i64][sum bits: 8]
#include "operators/over/over_history.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "operators/window/row_codec.h"
#include "runtime/data/column_builder.h"

namespace sluice::over {
namespace {

constexpr uint8_t kFormat = 1;

void appendFixed64(std::string& out, uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out.append(bytes, 8);
}

/// Reads fixed-width fields from the front of a byte string; `ok` turns false on truncation.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t fixed64() {
    if (in.size() < 8) return fail<uint64_t>();
    uint64_t value;
    std::memcpy(&value, in.data(), 8);
    in.remove_prefix(8);
    return value;
  }
  uint32_t fixed32() {
    if (in.size() < 4) return fail<uint32_t>();
    uint32_t value;
    std::memcpy(&value, in.data(), 4);
    in.remove_prefix(4);
    return value;
  }
  uint8_t byte() {
    if (in.empty()) return fail<uint8_t>();
    uint8_t value = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    return value;
  }
  std::string_view bytes(size_t count) {
    if (in.size() < count) return fail<std::string_view>();
    std::string_view value = in.substr(0, count);
    in.remove_prefix(count);
    return value;
  }
  template <typename T>
  T fail() {
    ok = false;
    in = {};
    return T{};
  }
};

bool usesDistinct(OverFunction function) { return function == OverFunction::kCountDistinct; }
bool usesExtremes(OverFunction function) { return function == OverFunction::kMin || function == OverFunction::kMax; }

}  // namespace

std::optional<OverFunction> parseOverFunction(std::string_view name) {
  if (name == "count") return OverFunction::kCount;
  if (name == "sum") return OverFunction::kSum;
  if (name == "min") return OverFunction::kMin;
  if (name == "max") return OverFunction::kMax;
  if (name == "count_distinct") return OverFunction::kCountDistinct;
  return std::nullopt;
}

void OverResults::reset(DataType type, int64_t rows) {
  type_ = type;
  bits_.assign(static_cast<size_t>(rows), 0);
  valid_.assign(static_cast<size_t>(rows), 0);
  if (type == DataType::kString) {
    strings_.assign(static_cast<size_t>(rows), std::string());
  } else {
    strings_.clear();
  }
}

ColumnPtr OverResults::finish() {
  ColumnBuilder builder(type_);
  builder.reserve(static_cast<int64_t>(valid_.size()));
  for (size_t row = 0; row < valid_.size(); ++row) {
    if (valid_[row] == 0) {
      builder.appendNull();
      continue;
    }
    switch (type_) {
      case DataType::kBool: builder.appendBool(bits_[row] != 0); break;
      case DataType::kUInt64: builder.appendUInt64(bits_[row]); break;
      case DataType::kFloat64: builder.appendFloat64(std::bit_cast<double>(bits_[row])); break;
      case DataType::kString: builder.appendString(strings_[row]); break;
      default: builder.appendInt64(static_cast<int64_t>(bits_[row])); break;
    }
  }
  return builder.finish();
}

OverHistory::OverHistory(const OverLayout* layout) : layout_(layout) { clear(); }

void OverHistory::clear() {
  base_ = 0;
  lastTime_ = 0;
  times_.clear();
  slots_.assign(layout_->inputs.size(), Slot{});
  aggregates_.assign(layout_->aggregates.size(), AggregateState{});
}

std::optional<int64_t> OverHistory::lastTimeOf(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  return window::readInt64BigEndianOrdered(bytes.data());
}

std::string OverHistory::distinctKey(int input, uint64_t entry) const {
  const Slot& slot = slots_[input];
  const size_t local = entry - base_;
  if (layout_->inputs[input].type == DataType::kString) return slot.strings[local];
  std::string key(8, '\0');
  std::memcpy(key.data(), &slot.bits[local], 8);
  return key;
}

int OverHistory::compareValues(int input, uint64_t a, uint64_t b) const {
  const Slot& slot = slots_[input];
  const size_t left = a - base_;
  const size_t right = b - base_;
  auto order = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (layout_->inputs[input].type) {
    case DataType::kString: return slot.strings[left].compare(slot.strings[right]);
    case DataType::kFloat64:
      return order(std::bit_cast<double>(slot.bits[left]), std::bit_cast<double>(slot.bits[right]));
    case DataType::kUInt64:
    case DataType::kBool: return order(slot.bits[left], slot.bits[right]);
    default: return order(static_cast<int64_t>(slot.bits[left]), static_cast<int64_t>(slot.bits[right]));
  }
}

void OverHistory::track(size_t aggregate, uint64_t entry) {
  const OverLayout::Aggregate& spec = layout_->aggregates[aggregate];
  AggregateState& state = aggregates_[aggregate];
  if (usesDistinct(spec.function)) {
    ++state.distinct[distinctKey(spec.input, entry)];
  } else if (usesExtremes(spec.function)) {
    // Keep a deque whose values strictly improve towards the front; a newer equal value replaces older ones.
    const int sign = spec.function == OverFunction::kMax ? 1 : -1;
    while (!state.extremes.empty() && sign * compareValues(spec.input, state.extremes.back(), entry) <= 0) {
      state.extremes.pop_back();
    }
    state.extremes.push_back(entry);
  }
}

void OverHistory::enter(size_t aggregate, uint64_t entry) {
  const OverLayout::Aggregate& spec = layout_->aggregates[aggregate];
  if (!present(spec.input, entry)) return;
  AggregateState& state = aggregates_[aggregate];
  ++state.count;
  if (spec.function == OverFunction::kSum) {
    const uint64_t bits = slots_[spec.input].bits[entry - base_];
    if (spec.resultType == DataType::kFloat64) {
      state.floatSum += std::bit_cast<double>(bits);
    } else {
      state.sum += bits;
    }
  }
  track(aggregate, entry);
}

void OverHistory::leave(size_t aggregate, uint64_t entry) {
  const OverLayout::Aggregate& spec = layout_->aggregates[aggregate];
  if (!present(spec.input, entry)) return;
  AggregateState& state = aggregates_[aggregate];
  --state.count;
  if (spec.function == OverFunction::kSum) {
    const uint64_t bits = slots_[spec.input].bits[entry - base_];
    if (spec.resultType == DataType::kFloat64) {
      state.floatSum -= std::bit_cast<double>(bits);
    } else {
      state.sum -= bits;
    }
  } else if (usesDistinct(spec.function)) {
    auto it = state.distinct.find(distinctKey(spec.input, entry));
    if (it != state.distinct.end() && --it->second <= 0) state.distinct.erase(it);
  } else if (usesExtremes(spec.function)) {
    if (!state.extremes.empty() && state.extremes.front() == entry) state.extremes.pop_front();
  }
  if (state.count == 0) {
    state.sum = 0;
    state.floatSum = 0;
  }
}

void OverHistory::append(int64_t time, const OverInputs& inputs, int32_t row) {
  const uint64_t entry = base_ + times_.size();
  times_.push_back(time);
  lastTime_ = time;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const OverLayout::Input& input = layout_->inputs[i];
    Slot& slot = slots_[i];
    bool isPresent = inputs.keep[i].empty() || inputs.keep[i][row] != 0;
    if (!input.hasValue) {
      slot.present.push_back(isPresent ? 1 : 0);
      continue;
    }
    const Column& column = *inputs.values[i];
    if (column.isNull(row)) isPresent = false;
    if (input.type == DataType::kString) {
      slot.strings.emplace_back(isPresent ? column.stringAt(row) : std::string_view());
    } else {
      uint64_t bits = 0;
      if (isPresent) {
        if (input.type == DataType::kBool) {
          bits = column.boolAt(row) ? 1 : 0;
        } else if (input.type == DataType::kFloat64) {
          double value = column.float64s()[row];
          if (std::isnan(value)) isPresent = false;
          bits = std::bit_cast<uint64_t>(value == 0.0 ? 0.0 : value);
        } else {
          bits = column.values().as<uint64_t>()[row];
        }
      }
      slot.bits.push_back(isPresent ? bits : 0);
    }
    slot.present.push_back(isPresent ? 1 : 0);
  }
  for (size_t a = 0; a < aggregates_.size(); ++a) enter(a, entry);
}

void OverHistory::advance(int64_t time) {
  const uint64_t end = base_ + times_.size();
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    const int64_t window = layout_->aggregates[a].window;
    if (time < std::numeric_limits<int64_t>::min() + window) continue;
    const int64_t limit = time - window;  // entries at or before t - W leave (t - W, t]
    AggregateState& state = aggregates_[a];
    while (state.start < end && times_[state.start - base_] <= limit) {
      leave(a, state.start);
      ++state.start;
    }
  }
}

void OverHistory::writeResults(std::vector<OverResults>& results, int32_t row) const {
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    const OverLayout::Aggregate& spec = layout_->aggregates[a];
    const AggregateState& state = aggregates_[a];
    OverResults& out = results[a];
    switch (spec.function) {
      case OverFunction::kCount: out.setBits(row, static_cast<uint64_t>(state.count)); break;
      case OverFunction::kCountDistinct: out.setBits(row, static_cast<uint64_t>(state.distinct.size())); break;
      case OverFunction::kSum:
        if (state.count == 0) {
          out.setNull(row);
        } else {
          out.setBits(row, spec.resultType == DataType::kFloat64 ? std::bit_cast<uint64_t>(state.floatSum) : state.sum);
        }
        break;
      case OverFunction::kMin:
      case OverFunction::kMax: {
        if (state.extremes.empty()) {
          out.setNull(row);
          break;
        }
        const size_t local = state.extremes.front() - base_;
        if (layout_->inputs[spec.input].type == DataType::kString) {
          out.setString(row, slots_[spec.input].strings[local]);
        } else {
          out.setBits(row, slots_[spec.input].bits[local]);
        }
        break;
      }
    }
  }
}

void OverHistory::encode(std::string& out) const {
  const uint64_t end = base_ + times_.size();
  uint64_t first = end;
  for (const AggregateState& state : aggregates_) first = std::min(first, state.start);
  const size_t skip = first - base_;
  window::appendInt64BigEndianOrdered(out, lastTime_);
  out.push_back(static_cast<char>(kFormat));
  window::appendUInt32(out, static_cast<uint32_t>(slots_.size()));
  window::appendUInt32(out, static_cast<uint32_t>(aggregates_.size()));
  appendFixed64(out, first);
  window::appendUInt32(out, static_cast<uint32_t>(end - first));
  for (size_t i = skip; i < times_.size(); ++i) appendFixed64(out, static_cast<uint64_t>(times_[i]));
  for (size_t s = 0; s < slots_.size(); ++s) {
    const Slot& slot = slots_[s];
    out.append(reinterpret_cast<const char*>(slot.present.data()) + skip, slot.present.size() - skip);
    if (!layout_->inputs[s].hasValue) continue;
    const bool isString = layout_->inputs[s].type == DataType::kString;
    for (size_t i = skip; i < slot.present.size(); ++i) {
      if (slot.present[i] == 0) continue;
      if (isString) {
        window::appendLengthPrefixed(out, slot.strings[i]);
      } else {
        appendFixed64(out, slot.bits[i]);
      }
    }
  }
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    const AggregateState& state = aggregates_[a];
    appendFixed64(out, state.start);
    appendFixed64(out, static_cast<uint64_t>(state.count));
    const bool isFloat = layout_->aggregates[a].resultType == DataType::kFloat64 &&
                         layout_->aggregates[a].function == OverFunction::kSum;
    appendFixed64(out, isFloat ? std::bit_cast<uint64_t>(state.floatSum) : state.sum);
  }
}

Status OverHistory::decode(std::string_view bytes) {
  clear();
  const Status corrupt = Status::corruption("over state: malformed key history");
  Reader reader{bytes};
  std::string_view lastTime = reader.bytes(8);
  const uint8_t format = reader.byte();
  const uint32_t numInputs = reader.fixed32();
  const uint32_t numAggregates = reader.fixed32();
  if (!reader.ok || format != kFormat) return corrupt;
  if (numInputs != slots_.size() || numAggregates != aggregates_.size()) {
    return Status::corruption("over state was written for " + std::to_string(numAggregates) + " aggregates over " +
                              std::to_string(numInputs) +
                              " inputs, not this node's list; restore with the same aggregates");
  }
  lastTime_ = window::readInt64BigEndianOrdered(lastTime.data());
  base_ = reader.fixed64();
  const uint32_t numEntries = reader.fixed32();
  if (!reader.ok || reader.in.size() / 8 < numEntries) return corrupt;
  times_.resize(numEntries);
  for (uint32_t i = 0; i < numEntries; ++i) times_[i] = static_cast<int64_t>(reader.fixed64());
  for (size_t s = 0; s < slots_.size(); ++s) {
    Slot& slot = slots_[s];
    std::string_view present = reader.bytes(numEntries);
    if (!reader.ok) return corrupt;
    slot.present.assign(present.begin(), present.end());
    if (!layout_->inputs[s].hasValue) continue;
    const bool isString = layout_->inputs[s].type == DataType::kString;
    if (isString) {
      slot.strings.assign(numEntries, std::string());
    } else {
      slot.bits.assign(numEntries, 0);
    }
    for (uint32_t i = 0; i < numEntries; ++i) {
      if (slot.present[i] == 0) continue;
      if (isString) {
        std::string_view value;
        if (!window::readLengthPrefixed(reader.in, value)) return corrupt;
        slot.strings[i].assign(value);
      } else {
        slot.bits[i] = reader.fixed64();
      }
    }
  }
  const uint64_t end = base_ + numEntries;
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    AggregateState& state = aggregates_[a];
    state.start = reader.fixed64();
    state.count = static_cast<int64_t>(reader.fixed64());
    const uint64_t sum = reader.fixed64();
    if (!reader.ok || state.start < base_ || state.start > end) return corrupt;
    const bool isFloat = layout_->aggregates[a].resultType == DataType::kFloat64 &&
                         layout_->aggregates[a].function == OverFunction::kSum;
    if (isFloat) {
      state.floatSum = std::bit_cast<double>(sum);
    } else {
      state.sum = sum;
    }
    const OverFunction function = layout_->aggregates[a].function;
    if (usesDistinct(function) || usesExtremes(function)) {
      for (uint64_t entry = state.start; entry < end; ++entry) {
        if (present(layout_->aggregates[a].input, entry)) track(a, entry);
      }
    }
  }
  if (!reader.in.empty()) return corrupt;
  return Status::OK();
}

}  // namespace sluice::over
