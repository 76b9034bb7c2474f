// Vectorised kernels. Operands are read through small "reader" structs (array,
// widening array or broadcast constant) so that every operator/type/shape
// combination compiles to its own branch-free loop.
#include "runtime/expr/kernels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <type_traits>

#include "runtime/base/check.h"
#include "runtime/data/column_builder.h"

namespace sluice::expr {
namespace {

template <typename T>
struct ArrayReader {
  const T* values;
  T operator[](int64_t row) const { return values[row]; }
};

/// Reads an int64 (or timestamp) column as float64, for mixed arithmetic.
struct WideningReader {
  const int64_t* values;
  double operator[](int64_t row) const { return static_cast<double>(values[row]); }
};

template <typename T>
struct ConstantReader {
  T value;
  T operator[](int64_t) const { return value; }
};

struct StringReader {
  const uint32_t* offsets;
  const char* chars;
  std::string_view operator[](int64_t row) const {
    return std::string_view(chars + offsets[row], offsets[row + 1] - offsets[row]);
  }
};

struct BoolReader {
  const uint8_t* bits;
  bool operator[](int64_t row) const { return getBit(bits, row); }
};

template <typename T>
T scalarAs(const Scalar& scalar) {
  if constexpr (std::is_same_v<T, double>) {
    if (scalar.type == DataType::kFloat64) return scalar.float64();
    if (scalar.type == DataType::kUInt64) return static_cast<double>(scalar.uint64());
    return static_cast<double>(scalar.int64());
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return scalar.string;
  } else if constexpr (std::is_same_v<T, bool>) {
    return scalar.boolean();
  } else {
    return static_cast<T>(scalar.bits);
  }
}

/// Calls `function(reader)` with the reader that fits `datum`'s shape, viewing
/// its values as `T`.
template <typename T, typename Function>
void visitReader(const Datum& datum, Function&& function) {
  if (datum.isScalar()) {
    function(ConstantReader<T>{scalarAs<T>(datum.scalar())});
    return;
  }
  const Column& column = datum.column();
  if constexpr (std::is_same_v<T, double>) {
    if (column.type() != DataType::kFloat64) {
      SLUICE_CHECK(isInt64Like(column.type()), "float64 kernel given a column that is not int64");
      function(WideningReader{column.int64s()});
    } else {
      function(ArrayReader<double>{column.float64s()});
    }
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    function(StringReader{column.stringOffsets(), reinterpret_cast<const char*>(column.data().data())});
  } else if constexpr (std::is_same_v<T, bool>) {
    function(BoolReader{column.values().data()});
  } else {
    function(ArrayReader<T>{reinterpret_cast<const T*>(column.values().data())});
  }
}

/// Calls `function(T{})` with the C++ type that holds `type`'s values.
template <typename Function>
void visitPhysicalType(DataType type, Function&& function) {
  switch (type) {
    case DataType::kInt64:
    case DataType::kTimestamp: function(int64_t{}); break;
    case DataType::kUInt64: function(uint64_t{}); break;
    case DataType::kFloat64: function(double{}); break;
    case DataType::kBool: function(bool{}); break;
    case DataType::kString: function(std::string_view{}); break;
  }
}

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using Unsigned = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<Unsigned>(a) + static_cast<Unsigned>(b));
    } else {
      return a + b;
    }
  }
};
struct SubtractOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using Unsigned = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<Unsigned>(a) - static_cast<Unsigned>(b));
    } else {
      return a - b;
    }
  }
};
struct MultiplyOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using Unsigned = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<Unsigned>(a) * static_cast<Unsigned>(b));
    } else {
      return a * b;
    }
  }
};
// Divisors of zero never reach these: the loop substitutes 1 and nulls the row.
struct DivideOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
      // INT64_MIN / -1 overflows; wrap like the other operators.
      if (b == -1) return static_cast<T>(0 - static_cast<uint64_t>(a));
    }
    return a / b;
  }
};
struct ModuloOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::fmod(a, b);
    } else {
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
      }
      return a % b;
    }
  }
};

template <typename T, typename Left, typename Right, typename Op>
void binaryLoop(int64_t rows, T* out, Left left, Right right, Op op) {
  for (int64_t row = 0; row < rows; ++row) out[row] = op(left[row], right[row]);
}

template <typename T, typename Left, typename Right, typename Op>
void divisionLoop(int64_t rows, T* out, Left left, Right right, Op op) {
  for (int64_t row = 0; row < rows; ++row) {
    const T divisor = right[row];
    out[row] = op(static_cast<T>(left[row]), divisor == T(0) ? T(1) : divisor);
  }
}

template <typename T>
ColumnPtr arithmeticTyped(ArithmeticOp op, DataType resultType, const Datum& left, const Datum& right, int64_t rows) {
  ValueBuffer<T> out(rows);
  Validity validity = intersectValidity(validityOf(left), validityOf(right), rows);
  visitReader<T>(left, [&](auto leftReader) {
    visitReader<T>(right, [&](auto rightReader) {
      switch (op) {
        case ArithmeticOp::kAdd: binaryLoop(rows, out.data(), leftReader, rightReader, AddOp{}); return;
        case ArithmeticOp::kSubtract: binaryLoop(rows, out.data(), leftReader, rightReader, SubtractOp{}); return;
        case ArithmeticOp::kMultiply: binaryLoop(rows, out.data(), leftReader, rightReader, MultiplyOp{}); return;
        case ArithmeticOp::kDivide: divisionLoop(rows, out.data(), leftReader, rightReader, DivideOp{}); break;
        case ArithmeticOp::kModulo: divisionLoop(rows, out.data(), leftReader, rightReader, ModuloOp{}); break;
      }
      // Division and modulo: a zero divisor makes the row null.
      if (right.isScalar()) {
        if (rightReader[0] == T(0))
          validity = Validity{broadcast(Scalar::null(DataType::kBool), rows)->validity(), rows};
        return;
      }
      ValueBuffer<uint8_t> nonZero(bitmapBytes(rows));
      packBits(rows, nonZero.data(), [&](int64_t row) { return rightReader[row] != T(0); });
      validity = intersectValidity(validity, makeValidity(std::move(nonZero), rows), rows);
    });
  });
  return makeColumn(resultType, rows, std::move(out).finish(), std::move(validity));
}

template <typename T, typename Function>
void visitComparison(ComparisonOp op, Function&& function) {
  switch (op) {
    case ComparisonOp::kEqual: function([](T a, T b) { return a == b; }); break;
    case ComparisonOp::kNotEqual: function([](T a, T b) { return a != b; }); break;
    case ComparisonOp::kLess: function([](T a, T b) { return a < b; }); break;
    case ComparisonOp::kLessEqual: function([](T a, T b) { return a <= b; }); break;
    case ComparisonOp::kGreater: function([](T a, T b) { return a > b; }); break;
    case ComparisonOp::kGreaterEqual: function([](T a, T b) { return a >= b; }); break;
  }
}

template <typename T>
ColumnPtr compareTyped(ComparisonOp op, const Datum& left, const Datum& right, int64_t rows) {
  ValueBuffer<uint8_t> out(bitmapBytes(rows));
  visitReader<T>(left, [&](auto leftReader) {
    visitReader<T>(right, [&](auto rightReader) {
      visitComparison<T>(op, [&](auto predicate) {
        packBits(rows, out.data(), [&](int64_t row) { return predicate(leftReader[row], rightReader[row]); });
      });
    });
  });
  return makeColumn(DataType::kBool, rows, std::move(out).finish(),
                    intersectValidity(validityOf(left), validityOf(right), rows));
}

/// A bool operand seen eight rows at a time.
struct BoolBytes {
  const uint8_t* values = nullptr;
  const uint8_t* validity = nullptr;
  uint8_t constantValue = 0;
  uint8_t constantValidity = 0xFF;
  uint8_t value(int64_t byte) const { return values ? values[byte] : constantValue; }
  uint8_t valid(int64_t byte) const { return validity ? validity[byte] : constantValidity; }
};

BoolBytes boolBytes(const Datum& datum) {
  BoolBytes bytes;
  if (datum.isScalar()) {
    bytes.constantValue = datum.scalar().valid && datum.scalar().boolean() ? 0xFF : 0x00;
    bytes.constantValidity = datum.scalar().valid ? 0xFF : 0x00;
  } else {
    bytes.values = datum.column().values().data();
    if (datum.column().hasNulls()) bytes.validity = datum.column().validity().data();
  }
  return bytes;
}

template <typename Combine>
ColumnPtr logicalBinary(const Datum& left, const Datum& right, int64_t rows, Combine combine) {
  const BoolBytes a = boolBytes(left);
  const BoolBytes b = boolBytes(right);
  const int64_t bytes = bitmapBytes(rows);
  ValueBuffer<uint8_t> values(bytes);
  ValueBuffer<uint8_t> validity(bytes);
  for (int64_t byte = 0; byte < bytes; ++byte) {
    combine(a.value(byte), a.valid(byte), b.value(byte), b.valid(byte), values[byte], validity[byte]);
  }
  return makeColumn(DataType::kBool, rows, std::move(values).finish(), makeValidity(std::move(validity), rows));
}

/// Fills `out[row]` with `convert(row, out[row])`'s value; rows where it returns
/// false (or the input is null) become null.
template <typename Out, typename Convert>
ColumnPtr convertFixed(const Column& input, DataType target, int64_t rows, Convert convert) {
  ValueBuffer<Out> out(rows);
  ValueBuffer<uint8_t> converted(bitmapBytes(rows));
  packBits(rows, converted.data(), [&](int64_t row) { return convert(row, out[row]); });
  Validity validity =
      intersectValidity(Validity{input.validity(), input.nullCount()}, makeValidity(std::move(converted), rows), rows);
  return makeColumn(target, rows, std::move(out).finish(), std::move(validity));
}

/// Numbers in strings: surrounding blanks and a leading '+' are accepted.
std::string_view trimNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  return text;
}

template <typename T>
bool parseNumber(std::string_view text, T& out) {
  text = trimNumber(text);
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool parseBool(std::string_view text, uint64_t& out) {
  std::string lower;
  for (char c : trimNumber(text)) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "true" || lower == "t" || lower == "1" || lower == "yes") {
    out = 1;
    return true;
  }
  if (lower == "false" || lower == "f" || lower == "0" || lower == "no") {
    out = 0;
    return true;
  }
  return false;
}

/// float64 → int64 without undefined behaviour: NaN and out-of-range values fail.
bool doubleToInt64(double value, int64_t& out) {
  if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0)) return false;
  out = static_cast<int64_t>(value);
  return true;
}
bool doubleToUInt64(double value, uint64_t& out) {
  if (!(value > -1.0 && value < 18446744073709551616.0)) return false;
  out = static_cast<uint64_t>(value);
  return true;
}

template <typename T>
void appendNumber(std::string& out, T value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void appendFormatted(std::string& out, const Column& column, int64_t row) {
  switch (column.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: appendNumber(out, column.int64s()[row]); break;
    case DataType::kUInt64: appendNumber(out, column.uint64s()[row]); break;
    case DataType::kFloat64: appendNumber(out, column.float64s()[row]); break;
    case DataType::kBool: out.append(column.boolAt(row) ? "true" : "false"); break;
    case DataType::kString: out.append(column.stringAt(row)); break;
  }
}

ColumnPtr castToString(const Column& input, int64_t rows) {
  ColumnBuilder builder(DataType::kString);
  builder.reserve(rows);
  std::string text;
  for (int64_t row = 0; row < rows; ++row) {
    if (input.isNull(row)) {
      builder.appendNull();
      continue;
    }
    text.clear();
    appendFormatted(text, input, row);
    builder.appendString(text);
  }
  return builder.finish();
}

ColumnPtr castColumn(const Column& input, DataType target, int64_t rows) {
  const DataType source = input.type();
  if (target == DataType::kString) return castToString(input, rows);
  if (source == DataType::kString) {
    StringReader strings{input.stringOffsets(), reinterpret_cast<const char*>(input.data().data())};
    switch (target) {
      case DataType::kBool: {
        ColumnBuilder builder(DataType::kBool);
        builder.reserve(rows);
        for (int64_t row = 0; row < rows; ++row) {
          uint64_t value = 0;
          if (input.isNull(row) || !parseBool(strings[row], value)) {
            builder.appendNull();
          } else {
            builder.appendBool(value != 0);
          }
        }
        return builder.finish();
      }
      case DataType::kFloat64:
        return convertFixed<double>(input, target, rows,
                                    [&](int64_t row, double& out) { return parseNumber(strings[row], out); });
      case DataType::kUInt64:
        return convertFixed<uint64_t>(input, target, rows,
                                      [&](int64_t row, uint64_t& out) { return parseNumber(strings[row], out); });
      default:
        return convertFixed<int64_t>(input, target, rows,
                                     [&](int64_t row, int64_t& out) { return parseNumber(strings[row], out); });
    }
  }
  if (target == DataType::kBool) {
    ValueBuffer<uint8_t> out(bitmapBytes(rows));
    visitPhysicalType(source, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, std::string_view>) {
        visitReader<T>(Datum(std::make_shared<const Column>(input)), [&](auto reader) {
          packBits(rows, out.data(), [&](int64_t row) { return reader[row] != T(0); });
        });
      }
    });
    return makeColumn(DataType::kBool, rows, std::move(out).finish(), Validity{input.validity(), input.nullCount()});
  }
  if (source == DataType::kBool) {
    BoolReader bits{input.values().data()};
    const Validity validity{input.validity(), input.nullCount()};
    if (target == DataType::kFloat64) {
      ValueBuffer<double> out(rows);
      for (int64_t row = 0; row < rows; ++row) out[row] = bits[row] ? 1.0 : 0.0;
      return makeColumn(target, rows, std::move(out).finish(), validity);
    }
    ValueBuffer<uint64_t> out(rows);
    for (int64_t row = 0; row < rows; ++row) out[row] = bits[row] ? 1 : 0;
    return makeColumn(target, rows, std::move(out).finish(), validity);
  }
  // Numeric to numeric.
  const Validity validity{input.validity(), input.nullCount()};
  if (target == DataType::kFloat64) {
    ValueBuffer<double> out(rows);
    if (source == DataType::kUInt64) {
      const uint64_t* values = input.uint64s();
      for (int64_t row = 0; row < rows; ++row) out[row] = static_cast<double>(values[row]);
    } else {
      const int64_t* values = input.int64s();
      for (int64_t row = 0; row < rows; ++row) out[row] = static_cast<double>(values[row]);
    }
    return makeColumn(target, rows, std::move(out).finish(), validity);
  }
  if (source == DataType::kFloat64) {
    const double* values = input.float64s();
    if (target == DataType::kUInt64) {
      return convertFixed<uint64_t>(input, target, rows,
                                    [&](int64_t row, uint64_t& out) { return doubleToUInt64(values[row], out); });
    }
    return convertFixed<int64_t>(input, target, rows,
                                 [&](int64_t row, int64_t& out) { return doubleToInt64(values[row], out); });
  }
  if (target == DataType::kUInt64) {
    // Negative int64 values have no uint64 counterpart.
    const int64_t* values = input.int64s();
    return convertFixed<uint64_t>(input, target, rows, [&](int64_t row, uint64_t& out) {
      out = static_cast<uint64_t>(values[row]);
      return values[row] >= 0;
    });
  }
  if (source == DataType::kUInt64) {
    const uint64_t* values = input.uint64s();
    return convertFixed<int64_t>(input, target, rows, [&](int64_t row, int64_t& out) {
      out = static_cast<int64_t>(values[row]);
      return values[row] <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    });
  }
  // int64 <-> timestamp: same bits, new type.
  return makeColumn(target, rows, input.values(), validity);
}

template <typename T, typename Reader>
void inListTyped(Reader reader, const std::vector<T>& members, int64_t rows, uint8_t* out) {
  if (members.size() <= 8) {
    const T* begin = members.data();
    const size_t count = members.size();
    packBits(rows, out, [&](int64_t row) {
      const auto value = reader[row];
      bool hit = false;
      for (size_t i = 0; i < count; ++i) hit |= value == begin[i];
      return hit;
    });
  } else {
    packBits(rows, out, [&](int64_t row) {
      return std::binary_search(members.begin(), members.end(), reader[row], std::less<>{});
    });
  }
}

}  // namespace

ColumnPtr arithmetic(ArithmeticOp op, DataType resultType, const Datum& left, const Datum& right, int64_t rows) {
  switch (resultType) {
    case DataType::kFloat64: return arithmeticTyped<double>(op, resultType, left, right, rows);
    case DataType::kUInt64: return arithmeticTyped<uint64_t>(op, resultType, left, right, rows);
    case DataType::kInt64:
    case DataType::kTimestamp: return arithmeticTyped<int64_t>(op, resultType, left, right, rows);
    default: SLUICE_CHECK(false, "arithmetic on a non-numeric type");
  }
  return nullptr;
}

ColumnPtr negate(const Datum& operand, int64_t rows) {
  const DataType type = operand.type();
  if (type == DataType::kFloat64) {
    ValueBuffer<double> out(rows);
    visitReader<double>(operand, [&](auto reader) {
      for (int64_t row = 0; row < rows; ++row) out[row] = -reader[row];
    });
    return makeColumn(type, rows, std::move(out).finish(), validityOf(operand));
  }
  SLUICE_CHECK(type == DataType::kInt64, "negate of a type other than int64 or float64");
  ValueBuffer<int64_t> out(rows);
  visitReader<int64_t>(operand, [&](auto reader) {
    for (int64_t row = 0; row < rows; ++row) out[row] = static_cast<int64_t>(0 - static_cast<uint64_t>(reader[row]));
  });
  return makeColumn(type, rows, std::move(out).finish(), validityOf(operand));
}

ColumnPtr compare(ComparisonOp op, DataType compareType, const Datum& left, const Datum& right, int64_t rows) {
  ColumnPtr result;
  visitPhysicalType(compareType, [&](auto tag) { result = compareTyped<decltype(tag)>(op, left, right, rows); });
  return result;
}

ColumnPtr logicalAnd(const Datum& left, const Datum& right, int64_t rows) {
  return logicalBinary(left, right, rows,
                       [](uint8_t a, uint8_t aValid, uint8_t b, uint8_t bValid, uint8_t& value, uint8_t& valid) {
                         const uint8_t aFalse = aValid & static_cast<uint8_t>(~a);
                         const uint8_t bFalse = bValid & static_cast<uint8_t>(~b);
                         valid = (aValid & bValid) | aFalse | bFalse;
                         value = a & b & aValid & bValid;
                       });
}

ColumnPtr logicalOr(const Datum& left, const Datum& right, int64_t rows) {
  return logicalBinary(left, right, rows,
                       [](uint8_t a, uint8_t aValid, uint8_t b, uint8_t bValid, uint8_t& value, uint8_t& valid) {
                         const uint8_t aTrue = aValid & a;
                         const uint8_t bTrue = bValid & b;
                         valid = (aValid & bValid) | aTrue | bTrue;
                         value = aTrue | bTrue;
                       });
}

ColumnPtr logicalNot(const Datum& operand, int64_t rows) {
  const BoolBytes bits = boolBytes(operand);
  const int64_t bytes = bitmapBytes(rows);
  ValueBuffer<uint8_t> values(bytes);
  for (int64_t byte = 0; byte < bytes; ++byte) values[byte] = static_cast<uint8_t>(~bits.value(byte));
  Validity validity = validityOf(operand);
  if (operand.isNullScalar()) validity = validityOf(Datum(broadcast(Scalar::null(DataType::kBool), rows)));
  return makeColumn(DataType::kBool, rows, std::move(values).finish(), std::move(validity));
}

ColumnPtr isNull(const Datum& operand, bool negated, int64_t rows) {
  const int64_t bytes = bitmapBytes(rows);
  ValueBuffer<uint8_t> values(bytes);
  const uint8_t flip = negated ? 0x00 : 0xFF;
  if (operand.isScalar() || !operand.column().hasNulls()) {
    const bool valid = operand.isScalar() ? operand.scalar().valid : true;
    std::fill_n(values.data(), bytes, static_cast<uint8_t>((valid ? 0xFF : 0x00) ^ flip));
  } else {
    const uint8_t* validity = operand.column().validity().data();
    for (int64_t byte = 0; byte < bytes; ++byte) values[byte] = validity[byte] ^ flip;
  }
  return makeColumn(DataType::kBool, rows, std::move(values).finish(), Validity{});
}

ColumnPtr cast(const Datum& operand, DataType target, int64_t rows) {
  if (operand.isScalar()) {
    ColumnPtr column = broadcast(operand.scalar(), rows);
    if (operand.type() == target) return column;
    return castColumn(*column, target, rows);
  }
  if (operand.type() == target) return operand.columnPtr();
  return castColumn(operand.column(), target, rows);
}

ColumnPtr inList(const Datum& value, const InListValues& list, int64_t rows) {
  ValueBuffer<uint8_t> hits(bitmapBytes(rows));
  if (list.type == DataType::kString) {
    std::vector<std::string_view> members(list.strings.begin(), list.strings.end());
    std::sort(members.begin(), members.end());
    visitReader<std::string_view>(value, [&](auto reader) { inListTyped(reader, members, rows, hits.data()); });
  } else {
    visitPhysicalType(list.type, [&](auto tag) {
      using T = decltype(tag);
      // Bool lists are rewritten into comparisons by the binder.
      if constexpr (!std::is_same_v<T, std::string_view> && !std::is_same_v<T, bool>) {
        std::vector<T> members;
        members.reserve(list.fixed.size());
        for (uint64_t bits : list.fixed) members.push_back(std::bit_cast<T>(bits));
        std::sort(members.begin(), members.end());
        visitReader<T>(value, [&](auto reader) { inListTyped(reader, members, rows, hits.data()); });
      } else {
        SLUICE_CHECK(false, "in-list kernel given a bool list");
      }
    });
  }
  Validity validity = validityOf(value);
  if (!list.hasNull) return makeColumn(DataType::kBool, rows, std::move(hits).finish(), std::move(validity));
  // A miss against a list holding null is unknown: the hit bitmap is also the validity.
  Buffer hitBits = std::move(hits).finish();
  const int64_t bytes = bitmapBytes(rows);
  ValueBuffer<uint8_t> copy(bytes);
  std::copy_n(hitBits.data(), bytes, copy.data());
  validity = intersectValidity(validity, makeValidity(std::move(copy), rows), rows);
  return makeColumn(DataType::kBool, rows, std::move(hitBits), std::move(validity));
}

ColumnPtr selectRows(DataType type, const std::vector<Datum>& choices, const std::vector<int32_t>& selection,
                     int64_t rows) {
  if (type == DataType::kBool || type == DataType::kString) {
    ColumnBuilder builder(type);
    builder.reserve(rows);
    for (int64_t row = 0; row < rows; ++row) {
      const int32_t choice = selection[row];
      if (choice < 0) {
        builder.appendNull();
        continue;
      }
      const Datum& source = choices[choice];
      if (source.isNull(row)) {
        builder.appendNull();
      } else if (type == DataType::kBool) {
        builder.appendBool(source.isScalar() ? source.scalar().boolean() : source.column().boolAt(row));
      } else {
        builder.appendString(source.isScalar() ? std::string_view(source.scalar().string)
                                               : source.column().stringAt(row));
      }
    }
    return builder.finish();
  }
  // Fixed-width: copy raw 8-byte values.
  const size_t count = choices.size();
  std::vector<const uint64_t*> values(count, nullptr);
  std::vector<const uint8_t*> validities(count, nullptr);
  std::vector<uint64_t> constants(count, 0);
  std::vector<uint8_t> constantValid(count, 1);
  for (size_t i = 0; i < count; ++i) {
    if (choices[i].isScalar()) {
      constants[i] = choices[i].scalar().bits;
      constantValid[i] = choices[i].scalar().valid ? 1 : 0;
    } else {
      values[i] = choices[i].column().values().as<uint64_t>();
      if (choices[i].column().hasNulls()) validities[i] = choices[i].column().validity().data();
    }
  }
  ValueBuffer<uint64_t> out(rows);
  ValueBuffer<uint8_t> valid(bitmapBytes(rows));
  packBits(rows, valid.data(), [&](int64_t row) {
    const int32_t choice = selection[row];
    if (choice < 0) {
      out[row] = 0;
      return false;
    }
    if (values[choice] == nullptr) {
      out[row] = constants[choice];
      return constantValid[choice] != 0;
    }
    out[row] = values[choice][row];
    return validities[choice] == nullptr || getBit(validities[choice], row);
  });
  return makeColumn(type, rows, std::move(out).finish(), makeValidity(std::move(valid), rows));
}

std::string formatValue(const Scalar& value) {
  if (!value.valid) return "null";
  ColumnPtr column = broadcast(value, 1);
  std::string out;
  appendFormatted(out, *column, 0);
  return out;
}

}  // namespace sluice::expr
