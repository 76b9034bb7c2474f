// The `geomean` plugin aggregate: a window aggregate over numeric arguments.
#include <cmath>
#include <cstring>

#include "examples/plugin/example_plugin.h"

namespace sluice::example {
namespace {

/// Accumulator: [sum of log2 x: double][count: int64], 16 bytes.
class Geomean final : public window::AggregateFunction {
 public:
  explicit Geomean(DataType argumentType) : argumentType_(argumentType) {}

  DataType resultType() const override { return DataType::kFloat64; }

  void createAccumulator(std::string& accumulator) const override { write(accumulator, 0.0, 0); }

  void add(std::string& accumulator, const window::AggregateInput& input,
           std::span<const int32_t> rows) const override {
    auto [sum, count] = read(accumulator);
    const Column& column = *input.argument;
    for (int32_t row : rows) {
      if (column.isNull(row)) continue;
      double value = argumentType_ == DataType::kFloat64  ? column.float64s()[row]
                     : argumentType_ == DataType::kUInt64 ? static_cast<double>(column.uint64s()[row])
                                                          : static_cast<double>(column.int64s()[row]);
      if (!(value > 0)) continue;
      sum += std::log2(value);
      ++count;
    }
    write(accumulator, sum, count);
  }

  void merge(std::string& accumulator, std::string_view other) const override {
    auto [sum, count] = read(accumulator);
    auto [otherSum, otherCount] = read(other);
    write(accumulator, sum + otherSum, count + otherCount);
  }

  void getResult(std::string_view accumulator, ColumnBuilder& out) const override {
    auto [sum, count] = read(accumulator);
    if (count == 0) {
      out.appendNull();
    } else {
      out.appendFloat64(std::pow(2.0, sum / static_cast<double>(count)));
    }
  }

 private:
  static void write(std::string& accumulator, double sum, int64_t count) {
    accumulator.resize(16);
    std::memcpy(accumulator.data(), &sum, 8);
    std::memcpy(accumulator.data() + 8, &count, 8);
  }
  static std::pair<double, int64_t> read(std::string_view accumulator) {
    double sum = 0;
    int64_t count = 0;
    if (accumulator.size() == 16) {
      std::memcpy(&sum, accumulator.data(), 8);
      std::memcpy(&count, accumulator.data() + 8, 8);
    }
    return {sum, count};
  }

  DataType argumentType_;
};

}  // namespace

Result<window::AggregateFunctionPtr> createGeomean(std::optional<DataType> argumentType) {
  if (!argumentType || !isNumeric(*argumentType) || *argumentType == DataType::kTimestamp) {
    return Status::invalidArgument("geomean(x) needs a numeric argument (int64, uint64 or float64)");
  }
  return window::AggregateFunctionPtr(std::make_shared<Geomean>(*argumentType));
}

}  // namespace sluice::example
