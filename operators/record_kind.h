// RecordKind: one kind of record a source emits, with its own schema and event-time field.
#pragma once

#include <string>
#include <vector>

#include "runtime/data/schema.h"

namespace sluice {

/// A kind of record in a source. A source declared with one `schema:` has a
/// single kind with an empty name and emits on its main output; a source with
/// `kinds:` has one named kind per discriminator value and emits each kind on
/// the side output of that name (the stream `source.kind`).
struct RecordKind {
  std::string name;
  SchemaPtr schema;
  /// The event-time field (int64 or timestamp), or -1 when the kind has none.
  int eventTimeIndex = -1;
};

/// What a malformed input line does.
enum class ErrorPolicy {
  kFail,  // the reader fails with "<path>:<line>: <reason>"
  kSkip,  // the line is counted and dropped; a warning reports the count
};

}  // namespace sluice
