// Named scalar functions. String functions work on bytes (lower/upper change
// ASCII letters only); regular expressions are RE2, compiled once at bind time.
#include "runtime/expr/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "runtime/data/column_builder.h"
#include "runtime/expr/binder.h"

namespace sluice::expr {
namespace {

struct CallSite {
  const std::string& name;
  int column;
};

Status argumentError(const CallSite& site, size_t index, std::string_view expected, const ExpressionNode& node) {
  return errorAt(StatusCode::kTypeError, site.column,
                 "argument " + std::to_string(index + 1) + " of " + site.name + " must be " + std::string(expected) +
                     " but is " + typeDescription(node));
}

/// Checks that argument `index` is a string (an untyped null becomes one).
Status requireString(const CallSite& site, std::vector<NodePtr>& arguments, size_t index) {
  NodePtr& argument = arguments[index];
  if (argument->isUntypedNull()) argument = coerce(argument, DataType::kString);
  if (argument->type() != DataType::kString) return argumentError(site, index, "a string", *argument);
  return Status::OK();
}

/// Checks that argument `index` is an integer and converts it to int64.
Status requireInteger(const CallSite& site, std::vector<NodePtr>& arguments, size_t index) {
  NodePtr& argument = arguments[index];
  if (!argument->isUntypedNull() && argument->type() != DataType::kInt64 && argument->type() != DataType::kUInt64) {
    return argumentError(site, index, "an integer", *argument);
  }
  argument = coerce(argument, DataType::kInt64);
  return Status::OK();
}

/// The value of a constant integer argument (a literal, possibly folded).
Result<int64_t> constantInteger(const CallSite& site, std::vector<NodePtr>& arguments, size_t index) {
  SLUICE_RETURN_NOT_OK(requireInteger(site, arguments, index));
  const Scalar* value = arguments[index]->constant();
  if (value == nullptr || !value->valid) {
    return errorAt(StatusCode::kInvalidArgument, site.column,
                   "argument " + std::to_string(index + 1) + " of " + site.name + " must be a constant integer");
  }
  return value->int64();
}

NodePtr makeFunction(DataType type, std::vector<NodePtr> arguments, FunctionNode::Kernel kernel,
                     bool propagatesNulls = true) {
  NodePtr node = std::make_shared<FunctionNode>(type, arguments, std::move(kernel), propagatesNulls);
  return foldIfConstant(node, arguments);
}

ColumnPtr materialize(const Datum& datum, int64_t rows) {
  return datum.isScalar() ? broadcast(datum.scalar(), rows) : datum.columnPtr();
}

/// Rows where every argument is valid.
Validity combinedValidity(const std::vector<Datum>& arguments, int64_t rows) {
  Validity validity;
  for (const Datum& argument : arguments) validity = intersectValidity(validity, validityOf(argument), rows);
  return validity;
}

struct StringArgument {
  explicit StringArgument(const Datum& datum)
      : column(datum.isScalar() ? nullptr : &datum.column()),
        constant(datum.isScalar() ? std::string_view(datum.scalar().string) : std::string_view()) {}
  std::string_view at(int64_t row) const { return column ? column->stringAt(row) : constant; }
  const Column* column;
  std::string_view constant;
};

struct IntegerArgument {
  explicit IntegerArgument(const Datum& datum)
      : values(datum.isScalar() ? nullptr : datum.column().int64s()),
        constant(datum.isScalar() ? datum.scalar().int64() : 0) {}
  int64_t at(int64_t row) const { return values ? values[row] : constant; }
  const int64_t* values;
  int64_t constant;
};

/// Builds a string column row by row: `produce(row, out)` appends the value
/// to `out` or returns false for null. Rows with a null argument are null.
template <typename Produce>
ColumnPtr buildStrings(const std::vector<Datum>& arguments, int64_t rows, Produce&& produce) {
  const Validity validity = combinedValidity(arguments, rows);
  const uint8_t* valid = validity.nullCount > 0 ? validity.bitmap.data() : nullptr;
  ColumnBuilder builder(DataType::kString);
  builder.reserve(rows);
  std::string scratch;
  for (int64_t row = 0; row < rows; ++row) {
    scratch.clear();
    if ((valid == nullptr || getBit(valid, row)) && produce(row, scratch)) {
      builder.appendString(scratch);
    } else {
      builder.appendNull();
    }
  }
  return builder.finish();
}

// ---- numeric ----

Result<NodePtr> bindAbs(const CallSite& site, std::vector<NodePtr>& arguments) {
  NodePtr argument = arguments[0];
  if (argument->isUntypedNull()) return makeLiteral(Scalar::null(DataType::kInt64));
  const DataType type = argument->type();
  if (type == DataType::kUInt64) return argument;
  if (type != DataType::kInt64 && type != DataType::kFloat64) return argumentError(site, 0, "a number", *argument);
  return makeFunction(type, arguments, [type](const std::vector<Datum>& values, int64_t rows) {
    ColumnPtr input = materialize(values[0], rows);
    if (type == DataType::kFloat64) {
      ValueBuffer<double> out(rows);
      const double* in = input->float64s();
      for (int64_t row = 0; row < rows; ++row) out[row] = std::fabs(in[row]);
      return makeColumn(type, rows, std::move(out).finish(), validityOf(Datum(input)));
    }
    ValueBuffer<int64_t> out(rows);
    const int64_t* in = input->int64s();
    for (int64_t row = 0; row < rows; ++row) {
      const auto magnitude = static_cast<uint64_t>(in[row]);
      out[row] = static_cast<int64_t>(in[row] < 0 ? 0 - magnitude : magnitude);
    }
    return makeColumn(type, rows, std::move(out).finish(), validityOf(Datum(input)));
  });
}

/// floor, ceil and round(x) share this: integers pass through unchanged.
template <double (*Function)(double)>
Result<NodePtr> bindRounding(const CallSite& site, std::vector<NodePtr>& arguments) {
  NodePtr argument = arguments[0];
  if (argument->isUntypedNull()) return makeLiteral(Scalar::null(DataType::kFloat64));
  const DataType type = argument->type();
  if (type == DataType::kInt64 || type == DataType::kUInt64) return argument;
  if (type != DataType::kFloat64) return argumentError(site, 0, "a number", *argument);
  return makeFunction(type, {argument}, [](const std::vector<Datum>& values, int64_t rows) {
    ColumnPtr input = materialize(values[0], rows);
    ValueBuffer<double> out(rows);
    const double* in = input->float64s();
    for (int64_t row = 0; row < rows; ++row) out[row] = Function(in[row]);
    return makeColumn(DataType::kFloat64, rows, std::move(out).finish(), validityOf(Datum(input)));
  });
}

double roundHalfAway(double value) { return std::round(value); }
double floorValue(double value) { return std::floor(value); }
double ceilValue(double value) { return std::ceil(value); }

Result<NodePtr> bindRound(const CallSite& site, std::vector<NodePtr>& arguments) {
  if (arguments.size() == 1) return bindRounding<roundHalfAway>(site, arguments);
  SLUICE_ASSIGN_OR_RETURN(const int64_t digits, constantInteger(site, arguments, 1));
  NodePtr argument = arguments[0];
  if (argument->isUntypedNull()) return makeLiteral(Scalar::null(DataType::kFloat64));
  const DataType type = argument->type();
  if (type == DataType::kUInt64) argument = coerce(argument, DataType::kInt64);
  if (type != DataType::kInt64 && type != DataType::kUInt64 && type != DataType::kFloat64) {
    return argumentError(site, 0, "a number", *argument);
  }
  if (type == DataType::kFloat64) {
    const double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(digits, -308, 308)));
    return makeFunction(type, {argument}, [scale](const std::vector<Datum>& values, int64_t rows) {
      ColumnPtr input = materialize(values[0], rows);
      ValueBuffer<double> out(rows);
      const double* in = input->float64s();
      for (int64_t row = 0; row < rows; ++row) {
        const double scaled = std::round(in[row] * scale) / scale;
        // Very large values have no fractional digits to round.
        out[row] = std::isfinite(scaled) ? scaled : in[row];
      }
      return makeColumn(DataType::kFloat64, rows, std::move(out).finish(), validityOf(Datum(input)));
    });
  }
  if (digits >= 0) return argument;
  if (digits < -18)
    return makeFunction(DataType::kInt64, {argument}, [](const std::vector<Datum>& values, int64_t rows) {
      ColumnPtr input = materialize(values[0], rows);
      ValueBuffer<int64_t> out(rows);
      std::fill_n(out.data(), rows, 0);
      return makeColumn(DataType::kInt64, rows, std::move(out).finish(), validityOf(Datum(input)));
    });
  int64_t unit = 1;
  for (int64_t i = 0; i < -digits; ++i) unit *= 10;
  return makeFunction(DataType::kInt64, {argument}, [unit](const std::vector<Datum>& values, int64_t rows) {
    ColumnPtr input = materialize(values[0], rows);
    ValueBuffer<int64_t> out(rows);
    const int64_t* in = input->int64s();
    for (int64_t row = 0; row < rows; ++row) {
      int64_t quotient = in[row] / unit;
      const int64_t remainder = in[row] % unit;
      if (remainder >= (unit + 1) / 2) ++quotient;
      if (remainder <= -(unit + 1) / 2) --quotient;
      out[row] = static_cast<int64_t>(static_cast<uint64_t>(quotient) * static_cast<uint64_t>(unit));
    }
    return makeColumn(DataType::kInt64, rows, std::move(out).finish(), validityOf(Datum(input)));
  });
}

// ---- strings ----

template <bool Upper>
Result<NodePtr> bindChangeCase(const CallSite& site, std::vector<NodePtr>& arguments) {
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 0));
  return makeFunction(DataType::kString, arguments, [](const std::vector<Datum>& values, int64_t rows) {
    StringArgument text(values[0]);
    return buildStrings(values, rows, [&](int64_t row, std::string& out) {
      std::string_view value = text.at(row);
      out.resize(value.size());
      for (size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if constexpr (Upper) {
          out[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        } else {
          out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
      }
      return true;
    });
  });
}

Result<NodePtr> bindLength(const CallSite& site, std::vector<NodePtr>& arguments) {
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 0));
  return makeFunction(DataType::kInt64, arguments, [](const std::vector<Datum>& values, int64_t rows) {
    ColumnPtr input = materialize(values[0], rows);
    ValueBuffer<int64_t> out(rows);
    const uint32_t* offsets = input->stringOffsets();
    for (int64_t row = 0; row < rows; ++row) out[row] = offsets[row + 1] - offsets[row];
    return makeColumn(DataType::kInt64, rows, std::move(out).finish(), validityOf(Datum(input)));
  });
}

/// concat(...) and `||`: every argument is converted to a string; any null
/// argument makes the result null.
Result<NodePtr> bindConcat(const CallSite&, std::vector<NodePtr>& arguments) {
  for (NodePtr& argument : arguments) argument = coerce(argument, DataType::kString);
  return makeFunction(DataType::kString, arguments, [](const std::vector<Datum>& values, int64_t rows) {
    std::vector<StringArgument> parts;
    parts.reserve(values.size());
    for (const Datum& value : values) parts.emplace_back(value);
    return buildStrings(values, rows, [&](int64_t row, std::string& out) {
      for (const StringArgument& part : parts) out.append(part.at(row));
      return true;
    });
  });
}

/// substr(s, start[, length]): `start` is 1-based; 0 counts as 1 and a
/// negative start counts from the end. A negative length gives ''.
Result<NodePtr> bindSubstr(const CallSite& site, std::vector<NodePtr>& arguments) {
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 0));
  for (size_t i = 1; i < arguments.size(); ++i) SLUICE_RETURN_NOT_OK(requireInteger(site, arguments, i));
  const bool hasLength = arguments.size() == 3;
  return makeFunction(DataType::kString, arguments, [hasLength](const std::vector<Datum>& values, int64_t rows) {
    StringArgument text(values[0]);
    IntegerArgument start(values[1]);
    IntegerArgument length(hasLength ? values[2] : values[1]);
    return buildStrings(values, rows, [&](int64_t row, std::string& out) {
      std::string_view value = text.at(row);
      const auto size = static_cast<int64_t>(value.size());
      int64_t first = start.at(row);
      if (first > 0) {
        first -= 1;
      } else if (first < 0) {
        first = std::max<int64_t>(size + first, 0);
      }
      if (first >= size) return true;
      int64_t count = size - first;
      if (hasLength) count = std::clamp<int64_t>(length.at(row), 0, count);
      out.append(value.substr(static_cast<size_t>(first), static_cast<size_t>(count)));
      return true;
    });
  });
}

/// split_part(s, delimiter, index): the index-th piece (1-based; negative
/// counts from the end); '' when there is no such piece; index 0 gives null.
Result<NodePtr> bindSplitPart(const CallSite& site, std::vector<NodePtr>& arguments) {
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 0));
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 1));
  SLUICE_RETURN_NOT_OK(requireInteger(site, arguments, 2));
  return makeFunction(DataType::kString, arguments, [](const std::vector<Datum>& values, int64_t rows) {
    StringArgument text(values[0]);
    StringArgument delimiter(values[1]);
    IntegerArgument index(values[2]);
    std::vector<std::string_view> pieces;
    return buildStrings(values, rows, [&](int64_t row, std::string& out) {
      const std::string_view value = text.at(row);
      const std::string_view separator = delimiter.at(row);
      const int64_t wanted = index.at(row);
      if (wanted == 0) return false;
      pieces.clear();
      if (separator.empty()) {
        pieces.push_back(value);
      } else {
        size_t begin = 0;
        while (true) {
          const size_t found = value.find(separator, begin);
          if (found == std::string_view::npos) {
            pieces.push_back(value.substr(begin));
            break;
          }
          pieces.push_back(value.substr(begin, found - begin));
          begin = found + separator.size();
        }
      }
      const auto count = static_cast<int64_t>(pieces.size());
      const int64_t position = wanted > 0 ? wanted - 1 : count + wanted;
      if (position >= 0 && position < count) out.append(pieces[static_cast<size_t>(position)]);
      return true;
    });
  });
}

/// regexp_extract(s, pattern[, group]): the text `group` captured at the
/// first match (group 0 is the whole match; the default is 1, or 0 when the
/// pattern has no groups); null when nothing matches.
Result<NodePtr> bindRegexpExtract(const CallSite& site, std::vector<NodePtr>& arguments) {
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 0));
  SLUICE_RETURN_NOT_OK(requireString(site, arguments, 1));
  const Scalar* pattern = arguments[1]->constant();
  if (pattern == nullptr || !pattern->valid) {
    return errorAt(StatusCode::kInvalidArgument, site.column, "the pattern of regexp_extract must be a string literal");
  }
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_shared<const RE2>(pattern->string, options);
  if (!regex->ok()) {
    return errorAt(StatusCode::kInvalidArgument, site.column,
                   "invalid regular expression '" + pattern->string + "': " + regex->error());
  }
  const int groups = regex->NumberOfCapturingGroups();
  int64_t group = groups > 0 ? 1 : 0;
  if (arguments.size() == 3) {
    SLUICE_ASSIGN_OR_RETURN(group, constantInteger(site, arguments, 2));
    if (group < 0 || group > groups) {
      return errorAt(StatusCode::kInvalidArgument, site.column,
                     "regexp_extract group " + std::to_string(group) + " does not exist: the pattern has " +
                         std::to_string(groups) + " capturing group(s)");
    }
  }
  const int submatches = static_cast<int>(group) + 1;
  return makeFunction(DataType::kString, {arguments[0]},
                      [regex, submatches](const std::vector<Datum>& values, int64_t rows) {
                        StringArgument text(values[0]);
                        std::vector<re2::StringPiece> matches(static_cast<size_t>(submatches));
                        return buildStrings(values, rows, [&](int64_t row, std::string& out) {
                          const std::string_view value = text.at(row);
                          const re2::StringPiece input(value.data(), value.size());
                          if (!regex->Match(input, 0, input.size(), RE2::UNANCHORED, matches.data(), submatches))
                            return false;
                          const re2::StringPiece& captured = matches.back();
                          if (captured.data() == nullptr) return false;  // an optional group that did not take part
                          out.append(captured.data(), captured.size());
                          return true;
                        });
                      });
}

// ---- conditional ----

Status incompatibleArguments(const CallSite& site, const std::vector<NodePtr>& arguments) {
  std::string types;
  for (const NodePtr& argument : arguments) {
    if (!types.empty()) types += ", ";
    types += typeDescription(*argument);
  }
  return errorAt(StatusCode::kTypeError, site.column,
                 "arguments of " + site.name + " have incompatible types (" + types + ")");
}

/// coalesce(a, b, ...): the first non-null argument.
Result<NodePtr> bindCoalesce(const CallSite& site, std::vector<NodePtr>& arguments) {
  std::optional<DataType> type = unifyTypes(arguments);
  if (!type) return incompatibleArguments(site, arguments);
  for (NodePtr& argument : arguments) argument = coerce(argument, *type);
  if (arguments.size() == 1) return arguments[0];
  const DataType resultType = *type;
  return makeFunction(
      resultType, arguments,
      [resultType](const std::vector<Datum>& values, int64_t rows) {
        std::vector<int32_t> selection(static_cast<size_t>(rows), -1);
        for (size_t index = values.size(); index-- > 0;) {
          const Datum& value = values[index];
          const auto choice = static_cast<int32_t>(index);
          for (int64_t row = 0; row < rows; ++row) {
            if (!value.isNull(row)) selection[row] = choice;
          }
        }
        return selectRows(resultType, values, selection, rows);
      },
      /*propagatesNulls=*/false);
}

template <typename T>
T fixedAt(const Datum& datum, int64_t row) {
  if (datum.isScalar()) return std::bit_cast<T>(datum.scalar().bits);
  return reinterpret_cast<const T*>(datum.column().values().data())[row];
}

std::string_view stringAt(const Datum& datum, int64_t row) {
  return datum.isScalar() ? std::string_view(datum.scalar().string) : datum.column().stringAt(row);
}

/// greatest(...) / least(...): the largest / smallest non-null argument.
template <bool Greatest>
Result<NodePtr> bindExtreme(const CallSite& site, std::vector<NodePtr>& arguments) {
  std::optional<DataType> type = unifyTypes(arguments);
  if (!type || *type == DataType::kBool) return incompatibleArguments(site, arguments);
  for (NodePtr& argument : arguments) argument = coerce(argument, *type);
  if (arguments.size() == 1) return arguments[0];
  const DataType resultType = *type;
  auto choose = [](const std::vector<Datum>& values, int64_t rows, auto better) {
    std::vector<int32_t> selection(static_cast<size_t>(rows), -1);
    for (int64_t row = 0; row < rows; ++row) {
      int32_t best = -1;
      for (size_t index = 0; index < values.size(); ++index) {
        if (values[index].isNull(row)) continue;
        if (best < 0 || better(values[index], values[best], row)) best = static_cast<int32_t>(index);
      }
      selection[row] = best;
    }
    return selection;
  };
  return makeFunction(
      resultType, arguments,
      [resultType, choose](const std::vector<Datum>& values, int64_t rows) {
        auto compareAs = [&](auto tag) {
          using T = decltype(tag);
          return choose(values, rows, [](const Datum& candidate, const Datum& best, int64_t row) {
            if constexpr (std::is_same_v<T, std::string_view>) {
              return Greatest ? stringAt(candidate, row) > stringAt(best, row)
                              : stringAt(candidate, row) < stringAt(best, row);
            } else {
              return Greatest ? fixedAt<T>(candidate, row) > fixedAt<T>(best, row)
                              : fixedAt<T>(candidate, row) < fixedAt<T>(best, row);
            }
          });
        };
        std::vector<int32_t> selection;
        switch (resultType) {
          case DataType::kString: selection = compareAs(std::string_view{}); break;
          case DataType::kFloat64: selection = compareAs(double{}); break;
          case DataType::kUInt64: selection = compareAs(uint64_t{}); break;
          default: selection = compareAs(int64_t{}); break;
        }
        return selectRows(resultType, values, selection, rows);
      },
      /*propagatesNulls=*/false);
}

/// if(condition, then, else) = case when condition then then else else end.
Result<NodePtr> bindIf(const CallSite& site, std::vector<NodePtr>& arguments) {
  NodePtr condition = arguments[0];
  if (!condition->isUntypedNull() && condition->type() != DataType::kBool) {
    return argumentError(site, 0, "bool", *condition);
  }
  condition = coerce(condition, DataType::kBool);
  std::vector<NodePtr> branches = {arguments[1], arguments[2]};
  std::optional<DataType> type = unifyTypes(branches);
  if (!type) return incompatibleArguments(site, branches);
  NodePtr then = coerce(arguments[1], *type);
  NodePtr otherwise = coerce(arguments[2], *type);
  NodePtr node =
      std::make_shared<CaseNode>(*type, std::vector<NodePtr>{condition}, std::vector<NodePtr>{then}, otherwise);
  return foldIfConstant(node, {condition, then, otherwise});
}

template <DataType Target>
Result<NodePtr> bindConversion(const CallSite&, std::vector<NodePtr>& arguments) {
  return coerce(arguments[0], Target);
}

using BindFunction = Result<NodePtr> (*)(const CallSite&, std::vector<NodePtr>&);

struct FunctionSpec {
  std::string_view name;
  int minArguments;
  int maxArguments;  // -1: any number
  BindFunction bind;
};

constexpr FunctionSpec kFunctions[] = {
    {"abs", 1, 1, bindAbs},
    {"ceil", 1, 1, bindRounding<ceilValue>},
    {"coalesce", 1, -1, bindCoalesce},
    {"concat", 1, -1, bindConcat},
    {"floor", 1, 1, bindRounding<floorValue>},
    {"greatest", 1, -1, bindExtreme<true>},
    {"if", 3, 3, bindIf},
    {"least", 1, -1, bindExtreme<false>},
    {"length", 1, 1, bindLength},
    {"lower", 1, 1, bindChangeCase<false>},
    {"regexp_extract", 2, 3, bindRegexpExtract},
    {"round", 1, 2, bindRound},
    {"split_part", 3, 3, bindSplitPart},
    {"substr", 2, 3, bindSubstr},
    {"substring", 2, 3, bindSubstr},
    {"to_bool", 1, 1, bindConversion<DataType::kBool>},
    {"to_double", 1, 1, bindConversion<DataType::kFloat64>},
    {"to_int", 1, 1, bindConversion<DataType::kInt64>},
    {"to_string", 1, 1, bindConversion<DataType::kString>},
    {"to_timestamp", 1, 1, bindConversion<DataType::kTimestamp>},
    {"upper", 1, 1, bindChangeCase<true>},
};

std::string arityText(const FunctionSpec& spec) {
  const auto plural = [](int count) { return std::to_string(count) + (count == 1 ? " argument" : " arguments"); };
  if (spec.maxArguments < 0) return "at least " + plural(spec.minArguments);
  if (spec.minArguments == spec.maxArguments) return plural(spec.minArguments);
  if (spec.maxArguments == spec.minArguments + 1) {
    return std::to_string(spec.minArguments) + " or " + plural(spec.maxArguments);
  }
  return std::to_string(spec.minArguments) + " to " + plural(spec.maxArguments);
}

}  // namespace

Result<NodePtr> bindFunction(const std::string& name, int column, std::vector<NodePtr> arguments) {
  for (const FunctionSpec& spec : kFunctions) {
    if (spec.name != name) continue;
    const auto count = static_cast<int>(arguments.size());
    if (count < spec.minArguments || (spec.maxArguments >= 0 && count > spec.maxArguments)) {
      return errorAt(StatusCode::kInvalidArgument, column,
                     name + " takes " + arityText(spec) + " but got " + std::to_string(count));
    }
    return spec.bind(CallSite{name, column}, arguments);
  }
  std::string known;
  for (const FunctionSpec& spec : kFunctions) {
    if (!known.empty()) known += ", ";
    known += spec.name;
  }
  return errorAt(StatusCode::kNotFound, column, "unknown function '" + name + "' (functions: " + known + ", cast)");
}

}  // namespace sluice::expr
