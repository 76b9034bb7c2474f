// The built-in aggregates (count, sum, min, max, avg, count_distinct, first,
// last) and the aggregate registry.
#include "operators/window/aggregate_function.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "operators/window/row_codec.h"

namespace sluice::window {
namespace {

template <typename T>
T load(std::string_view bytes, size_t offset = 0) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void store(std::string& bytes, T value, size_t offset = 0) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

/// Typed access to the 8-byte and bool column layouts.
template <typename T>
T valueAt(const Column& column, int64_t row);
template <>
int64_t valueAt<int64_t>(const Column& column, int64_t row) {
  return column.int64s()[row];
}
template <>
uint64_t valueAt<uint64_t>(const Column& column, int64_t row) {
  return column.uint64s()[row];
}
template <>
double valueAt<double>(const Column& column, int64_t row) {
  return column.float64s()[row];
}
template <>
uint8_t valueAt<uint8_t>(const Column& column, int64_t row) {
  return column.boolAt(row) ? 1 : 0;
}

template <typename T>
void appendValue(ColumnBuilder& out, T value);
template <>
void appendValue<int64_t>(ColumnBuilder& out, int64_t value) {
  out.appendInt64(value);
}
template <>
void appendValue<uint64_t>(ColumnBuilder& out, uint64_t value) {
  out.appendUInt64(value);
}
template <>
void appendValue<double>(ColumnBuilder& out, double value) {
  out.appendFloat64(value);
}
template <>
void appendValue<uint8_t>(ColumnBuilder& out, uint8_t value) {
  out.appendBool(value != 0);
}

/// The bytes of one value in a type-independent form (for count_distinct,
/// first and last): 8 raw bytes, one byte for bool, the text for strings.
std::string_view valueBytes(const Column& column, int64_t row) {
  static const char kFalse = '\0';
  static const char kTrue = '\1';
  switch (column.type()) {
    case DataType::kBool: return std::string_view(column.boolAt(row) ? &kTrue : &kFalse, 1);
    case DataType::kString: return column.stringAt(row);
    default: return std::string_view(reinterpret_cast<const char*>(column.values().data()) + row * 8, 8);
  }
}

void appendValueBytes(ColumnBuilder& out, DataType type, std::string_view bytes) {
  switch (type) {
    case DataType::kBool: out.appendBool(bytes[0] != '\0'); break;
    case DataType::kString: out.appendString(bytes); break;
    case DataType::kFloat64: out.appendFloat64(load<double>(bytes)); break;
    case DataType::kUInt64: out.appendUInt64(load<uint64_t>(bytes)); break;
    default: out.appendInt64(load<int64_t>(bytes)); break;
  }
}

/// count() and count(expr): int64 number of rows (non-null argument values).
class CountFunction final : public AggregateFunction {
 public:
  DataType resultType() const override { return DataType::kInt64; }
  void createAccumulator(std::string& accumulator) const override { accumulator.assign(8, '\0'); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    int64_t count = load<int64_t>(accumulator);
    if (input.argument == nullptr || !input.argument->hasNulls()) {
      count += static_cast<int64_t>(rows.size());
    } else {
      for (int32_t row : rows) count += input.argument->isValid(row) ? 1 : 0;
    }
    store(accumulator, count);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    store(accumulator, load<int64_t>(accumulator) + load<int64_t>(other));
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    out.appendInt64(load<int64_t>(accumulator));
  }
};

/// Accumulator layout of sum/min/max: [has value: 1 byte][value: sizeof(T)].
template <typename T>
class OptionalValueFunction : public AggregateFunction {
 public:
  explicit OptionalValueFunction(DataType resultType) : resultType_(resultType) {}
  DataType resultType() const override { return resultType_; }
  void createAccumulator(std::string& accumulator) const override { accumulator.assign(1 + sizeof(T), '\0'); }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    if (accumulator[0] == '\0') {
      out.appendNull();
    } else {
      appendValue<T>(out, load<T>(accumulator, 1));
    }
  }

 private:
  DataType resultType_;
};

/// sum(expr): integer sums wrap around on overflow (two's complement).
template <typename T>
class SumFunction final : public OptionalValueFunction<T> {
 public:
  using OptionalValueFunction<T>::OptionalValueFunction;
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    const Column& column = *input.argument;
    bool has = accumulator[0] != '\0';
    T sum = load<T>(accumulator, 1);
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      sum = plus(sum, valueAt<T>(column, row));
      has = true;
    }
    accumulator[0] = has ? '\1' : '\0';
    store(accumulator, sum, 1);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    if (other[0] == '\0') return;
    T sum = accumulator[0] == '\0' ? T{} : load<T>(accumulator, 1);
    accumulator[0] = '\1';
    store(accumulator, plus(sum, load<T>(other, 1)), 1);
  }

 private:
  static T plus(T a, T b) {
    if constexpr (std::is_same_v<T, int64_t>) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    } else {
      return a + b;
    }
  }
};

template <typename T, bool kMax>
class MinMaxFunction final : public OptionalValueFunction<T> {
 public:
  using OptionalValueFunction<T>::OptionalValueFunction;
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    const Column& column = *input.argument;
    bool has = accumulator[0] != '\0';
    T best = load<T>(accumulator, 1);
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      T value = valueAt<T>(column, row);
      if (!has || better(value, best)) best = value;
      has = true;
    }
    accumulator[0] = has ? '\1' : '\0';
    store(accumulator, best, 1);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    if (other[0] == '\0') return;
    T value = load<T>(other, 1);
    if (accumulator[0] == '\0' || better(value, load<T>(accumulator, 1))) {
      accumulator[0] = '\1';
      store(accumulator, value, 1);
    }
  }

 private:
  static bool better(T candidate, T current) { return kMax ? candidate > current : candidate < current; }
};

/// min/max over strings (byte order). Accumulator: [has: 1 byte][text].
template <bool kMax>
class StringMinMaxFunction final : public AggregateFunction {
 public:
  DataType resultType() const override { return DataType::kString; }
  void createAccumulator(std::string& accumulator) const override { accumulator.assign(1, '\0'); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    const Column& column = *input.argument;
    std::optional<std::string_view> best;
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      std::string_view value = column.stringAt(row);
      if (!best.has_value() || better(value, *best)) best = value;
    }
    if (!best.has_value()) return;
    offer(accumulator, *best);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    if (other[0] != '\0') offer(accumulator, other.substr(1));
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    if (accumulator[0] == '\0') {
      out.appendNull();
    } else {
      out.appendString(accumulator.substr(1));
    }
  }

 private:
  static bool better(std::string_view candidate, std::string_view current) {
    return kMax ? candidate > current : candidate < current;
  }
  static void offer(std::string& accumulator, std::string_view value) {
    if (accumulator[0] == '\0' || better(value, std::string_view(accumulator).substr(1))) {
      accumulator.assign(1, '\1');
      accumulator.append(value);
    }
  }
};

/// avg(expr): float64 mean of the non-null values; null when there are none.
/// Accumulator: [sum: double][count: int64].
template <typename T>
class AvgFunction final : public AggregateFunction {
 public:
  DataType resultType() const override { return DataType::kFloat64; }
  void createAccumulator(std::string& accumulator) const override { accumulator.assign(16, '\0'); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    const Column& column = *input.argument;
    double sum = load<double>(accumulator);
    int64_t count = load<int64_t>(accumulator, 8);
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      sum += static_cast<double>(valueAt<T>(column, row));
      ++count;
    }
    store(accumulator, sum);
    store(accumulator, count, 8);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    store(accumulator, load<double>(accumulator) + load<double>(other));
    store(accumulator, load<int64_t>(accumulator, 8) + load<int64_t>(other, 8), 8);
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    int64_t count = load<int64_t>(accumulator, 8);
    if (count == 0) {
      out.appendNull();
    } else {
      out.appendFloat64(load<double>(accumulator) / static_cast<double>(count));
    }
  }
};

/// count_distinct(expr): int64 number of distinct non-null values. Accumulator:
/// the distinct values' bytes, sorted, each length-prefixed (exact, so its
/// size grows with the number of distinct values).
class CountDistinctFunction final : public AggregateFunction {
 public:
  DataType resultType() const override { return DataType::kInt64; }
  void createAccumulator(std::string& accumulator) const override { accumulator.clear(); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    std::vector<std::string_view> values;
    values.reserve(rows.size());
    for (int32_t row : rows) {
      if (input.argument->isValid(row)) values.push_back(valueBytes(*input.argument, row));
    }
    combine(accumulator, values);
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    std::vector<std::string_view> values;
    std::string_view rest = other;
    std::string_view value;
    while (readLengthPrefixed(rest, value)) values.push_back(value);
    combine(accumulator, values);
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    int64_t count = 0;
    std::string_view value;
    while (readLengthPrefixed(accumulator, value)) ++count;
    out.appendInt64(count);
  }

 private:
  static void combine(std::string& accumulator, std::vector<std::string_view>& values) {
    if (values.empty()) return;
    std::string_view rest = accumulator;
    std::string_view value;
    while (readLengthPrefixed(rest, value)) values.push_back(value);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    std::string merged;
    for (std::string_view distinct : values) appendLengthPrefixed(merged, distinct);
    accumulator = std::move(merged);
  }
};

/// first(expr) / last(expr): the non-null value with the smallest (largest)
/// event time; ties go to the earlier (later) arrival. Accumulator:
/// [has: 1 byte][event time: int64][value bytes].
template <bool kLast>
class FirstLastFunction final : public AggregateFunction {
 public:
  explicit FirstLastFunction(DataType type) : type_(type) {}
  DataType resultType() const override { return type_; }
  void createAccumulator(std::string& accumulator) const override { accumulator.assign(9, '\0'); }
  void add(std::string& accumulator, const AggregateInput& input, std::span<const int32_t> rows) const override {
    const Column& column = *input.argument;
    int32_t chosen = -1;
    int64_t chosenTime = 0;
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      int64_t time = input.eventTimes[row];
      if (chosen < 0 || replaces(time, chosenTime)) {
        chosen = row;
        chosenTime = time;
      }
    }
    if (chosen >= 0) offer(accumulator, chosenTime, valueBytes(column, chosen));
  }
  void merge(std::string& accumulator, std::string_view other) const override {
    if (other[0] != '\0') offer(accumulator, load<int64_t>(other, 1), other.substr(9));
  }
  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    if (accumulator[0] == '\0') {
      out.appendNull();
    } else {
      appendValueBytes(out, type_, accumulator.substr(9));
    }
  }

 private:
  /// Whether a later-arriving value at `time` replaces the current one at `current`.
  static bool replaces(int64_t time, int64_t current) { return kLast ? time >= current : time < current; }
  static void offer(std::string& accumulator, int64_t time, std::string_view value) {
    if (accumulator[0] != '\0' && !replaces(time, load<int64_t>(accumulator, 1))) return;
    accumulator.assign(9, '\1');
    store(accumulator, time, 1);
    accumulator.append(value);
  }

  DataType type_;
};

Status needsArgument(const std::string& name, std::optional<DataType> type) {
  if (!type.has_value()) return Status::invalidArgument(name + "() needs an argument, as " + name + "(price)");
  return Status::OK();
}

template <template <typename> class Function>
Result<AggregateFunctionPtr> numericAggregate(const std::string& name, std::optional<DataType> type,
                                              bool allowTimestamp) {
  SLUICE_RETURN_NOT_OK(needsArgument(name, type));
  switch (*type) {
    case DataType::kInt64: return AggregateFunctionPtr(std::make_shared<Function<int64_t>>(DataType::kInt64));
    case DataType::kUInt64: return AggregateFunctionPtr(std::make_shared<Function<uint64_t>>(DataType::kUInt64));
    case DataType::kFloat64: return AggregateFunctionPtr(std::make_shared<Function<double>>(DataType::kFloat64));
    case DataType::kTimestamp:
      if (allowTimestamp) {
        return AggregateFunctionPtr(std::make_shared<Function<int64_t>>(DataType::kTimestamp));
      }
      break;
    default: break;
  }
  return Status::invalidArgument(name + "() needs a numeric argument, not " + std::string(dataTypeName(*type)));
}

template <typename T>
using MinFunction = MinMaxFunction<T, false>;
template <typename T>
using MaxFunction = MinMaxFunction<T, true>;

template <bool kMax>
Result<AggregateFunctionPtr> minMaxAggregate(std::optional<DataType> type) {
  const std::string name = kMax ? "max" : "min";
  SLUICE_RETURN_NOT_OK(needsArgument(name, type));
  if (*type == DataType::kString) return AggregateFunctionPtr(std::make_shared<StringMinMaxFunction<kMax>>());
  if (*type == DataType::kBool) {
    return AggregateFunctionPtr(std::make_shared<MinMaxFunction<uint8_t, kMax>>(DataType::kBool));
  }
  if constexpr (kMax) {
    return numericAggregate<MaxFunction>(name, type, true);
  } else {
    return numericAggregate<MinFunction>(name, type, true);
  }
}

Result<AggregateFunctionPtr> avgAggregate(std::optional<DataType> type) {
  SLUICE_RETURN_NOT_OK(needsArgument("avg", type));
  switch (*type) {
    case DataType::kInt64: return AggregateFunctionPtr(std::make_shared<AvgFunction<int64_t>>());
    case DataType::kUInt64: return AggregateFunctionPtr(std::make_shared<AvgFunction<uint64_t>>());
    case DataType::kFloat64: return AggregateFunctionPtr(std::make_shared<AvgFunction<double>>());
    default: return Status::invalidArgument("avg() needs a numeric argument, not " + std::string(dataTypeName(*type)));
  }
}

}  // namespace

AggregateRegistry::AggregateRegistry() {
  factories_["count"] = [](std::optional<DataType>) -> Result<AggregateFunctionPtr> {
    return AggregateFunctionPtr(std::make_shared<CountFunction>());
  };
  factories_["sum"] = [](std::optional<DataType> type) { return numericAggregate<SumFunction>("sum", type, false); };
  factories_["min"] = [](std::optional<DataType> type) { return minMaxAggregate<false>(type); };
  factories_["max"] = [](std::optional<DataType> type) { return minMaxAggregate<true>(type); };
  factories_["avg"] = avgAggregate;
  factories_["count_distinct"] = [](std::optional<DataType> type) -> Result<AggregateFunctionPtr> {
    SLUICE_RETURN_NOT_OK(needsArgument("count_distinct", type));
    return AggregateFunctionPtr(std::make_shared<CountDistinctFunction>());
  };
  factories_["first"] = [](std::optional<DataType> type) -> Result<AggregateFunctionPtr> {
    SLUICE_RETURN_NOT_OK(needsArgument("first", type));
    return AggregateFunctionPtr(std::make_shared<FirstLastFunction<false>>(*type));
  };
  factories_["last"] = [](std::optional<DataType> type) -> Result<AggregateFunctionPtr> {
    SLUICE_RETURN_NOT_OK(needsArgument("last", type));
    return AggregateFunctionPtr(std::make_shared<FirstLastFunction<true>>(*type));
  };
}

AggregateRegistry& AggregateRegistry::instance() {
  static AggregateRegistry registry;
  return registry;
}

void AggregateRegistry::registerAggregate(const std::string& name, AggregateFactory factory) {
  std::lock_guard lock(mutex_);
  factories_[name] = std::move(factory);
}

Result<AggregateFunctionPtr> AggregateRegistry::create(const std::string& name,
                                                       std::optional<DataType> argumentType) const {
  AggregateFactory factory;
  {
    std::lock_guard lock(mutex_);
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& [knownName, unused] : factories_) known += (known.empty() ? "" : ", ") + knownName;
      return Status::invalidArgument("unknown aggregate '" + name + "' (known: " + known + ")");
    }
    factory = it->second;
  }
  return factory(argumentType);
}

std::vector<std::string> AggregateRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

std::string encodeAccumulators(const std::vector<std::string>& accumulators) {
  size_t size = 0;
  for (const auto& accumulator : accumulators) size += 4 + accumulator.size();
  std::string encoded;
  encoded.reserve(size);
  for (const auto& accumulator : accumulators) appendLengthPrefixed(encoded, accumulator);
  return encoded;
}

Status decodeAccumulators(std::string_view encoded, size_t count, std::vector<std::string>& accumulators) {
  accumulators.resize(count);
  for (size_t i = 0; i < count; ++i) {
    std::string_view value;
    if (!readLengthPrefixed(encoded, value)) return Status::corruption("window state: truncated accumulators");
    accumulators[i].assign(value);
  }
  if (!encoded.empty()) return Status::corruption("window state: accumulators have trailing bytes");
  return Status::OK();
}

}  // namespace sluice::window
