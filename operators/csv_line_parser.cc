// CsvLineParser: split on commas (with optional quoting), then typed conversion per column.
#include "operators/csv_line_parser.h"

#include <charconv>
#include <string>

namespace sluice {
namespace {

template <typename T>
bool parseNumber(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [position, error] = std::from_chars(text.data(), end, out);
  return error == std::errc() && position == end;
}

bool equalsIgnoreCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string quoteForMessage(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() > kMaxShown) return "'" + std::string(text.substr(0, kMaxShown)) + "...'";
  return "'" + std::string(text) + "'";
}

}  // namespace

CsvLineParser::CsvLineParser(std::vector<RecordKind> kinds) : LineParser(std::move(kinds)) {
  hasDiscriminator_ = !(kinds_.size() == 1 && kinds_[0].name.empty());
}

int CsvLineParser::findKind(std::string_view name) const {
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (kinds_[i].name == name) return static_cast<int>(i);
  }
  return kUnknownKind;
}

Status CsvLineParser::split(std::string_view line) {
  columns_.clear();
  scratch_.clear();
  // Unquoted values never outgrow the line, so views into scratch_ stay valid.
  scratch_.reserve(line.size());
  size_t position = 0;
  while (true) {
    if (position < line.size() && line[position] == '"') {
      const size_t begin = scratch_.size();
      size_t cursor = position + 1;
      while (true) {
        if (cursor >= line.size()) {
          return Status::parseError("column " + std::to_string(columns_.size() + 1) + ": unterminated quote");
        }
        if (line[cursor] == '"') {
          if (cursor + 1 < line.size() && line[cursor + 1] == '"') {
            scratch_.push_back('"');
            cursor += 2;
            continue;
          }
          ++cursor;
          break;
        }
        scratch_.push_back(line[cursor++]);
      }
      columns_.emplace_back(scratch_.data() + begin, scratch_.size() - begin);
      if (cursor == line.size()) return Status::OK();
      if (line[cursor] != ',') {
        return Status::parseError("column " + std::to_string(columns_.size()) + ": unexpected text after a quote");
      }
      position = cursor + 1;
      continue;
    }
    const size_t comma = line.find(',', position);
    if (comma == std::string_view::npos) {
      columns_.push_back(line.substr(position));
      return Status::OK();
    }
    columns_.push_back(line.substr(position, comma - position));
    position = comma + 1;
  }
}

Result<int> CsvLineParser::parseLine(std::string_view line, size_t capacity) {
  (void)capacity;
  SLUICE_RETURN_NOT_OK(split(line));
  int kind = 0;
  size_t first = 0;
  if (hasDiscriminator_) {
    kind = findKind(columns_[0]);
    if (kind == kUnknownKind) return kUnknownKind;
    first = 1;
  }
  const Schema& schema = *kinds_[kind].schema;
  const size_t expected = first + static_cast<size_t>(schema.numFields());
  if (columns_.size() != expected) {
    std::string message = "expected " + std::to_string(expected) + " columns";
    if (hasDiscriminator_) message += " for kind '" + kinds_[kind].name + "'";
    return Status::parseError(message + ", got " + std::to_string(columns_.size()));
  }
  beginRow(kind);
  for (int i = 0; i < schema.numFields(); ++i) {
    std::string_view text = columns_[first + i];
    const Field& field = schema.field(i);
    StagedValue& slot = staged_[i];
    if (field.type == DataType::kString) {
      slot.stringValue = text;
      slot.present = true;
      continue;
    }
    if (text.empty()) continue;  // null
    bool good = false;
    switch (field.type) {
      case DataType::kInt64:
      case DataType::kTimestamp: good = parseNumber(text, slot.int64Value); break;
      case DataType::kUInt64: good = parseNumber(text, slot.uint64Value); break;
      case DataType::kFloat64: good = parseNumber(text, slot.float64Value); break;
      case DataType::kBool:
        if (text == "1" || equalsIgnoreCase(text, "true")) {
          slot.boolValue = true;
          good = true;
        } else if (text == "0" || equalsIgnoreCase(text, "false")) {
          slot.boolValue = false;
          good = true;
        }
        break;
      case DataType::kString: break;
    }
    if (!good) {
      return Status::parseError("column " + std::to_string(first + i + 1) + " '" + field.name + "': expected " +
                                std::string(dataTypeName(field.type)) + ", got " + quoteForMessage(text));
    }
    slot.present = true;
  }
  SLUICE_RETURN_NOT_OK(commitRow(kind));
  return kind;
}

}  // namespace sluice
