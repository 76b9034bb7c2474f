// JsonLineParser: parses JSON-lines records (one object per line) with simdjson.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operators/line_parser.h"

namespace sluice {

/// Parses one JSON object per line into the builder of its kind.
///
/// Type rules: int64 and timestamp take JSON integers; uint64 takes
/// non-negative integers; float64 takes any number; bool takes true/false;
/// string takes strings. A missing field or JSON null is a null value. Fields
/// not in the kind's schema are ignored. With a discriminator, its (string)
/// value picks the kind; a value naming no kind makes the line kUnknownKind,
/// a missing or non-string discriminator is an error. A field that appears
/// twice, a line that is not one valid JSON object, or a wrong type is an error.
class JsonLineParser final : public LineParser {
 public:
  /// `discriminator` is the field whose value names the kind; empty when
  /// `kinds` holds the one kind every line belongs to.
  JsonLineParser(std::vector<RecordKind> kinds, std::string discriminator);
  ~JsonLineParser() override;

  Result<int> parseLine(std::string_view line, size_t capacity) override;

 private:
  struct Impl;  // keeps simdjson out of this header
  int findKind(std::string_view name) const;
  int findField(int kind, std::string_view key, int hint) const;

  std::string discriminator_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
