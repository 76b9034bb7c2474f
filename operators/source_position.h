// The saved position of one split of a split source (generator, nexmark) as checkpoints store it: a version
// word, the split, and the source's integers, with the split checks every restore makes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace sluice {

/// "source '<sourceId>': split out of range" unless 0 <= split < numSplits.
Status checkSplitInRange(const std::string& sourceId, int split, int numSplits);

/// The text `<version> <split> <numSplits> <value>...`: space-separated decimal integers after the version
/// word (for example the generator's next id and its watermark state). Checkpoints store this text, so it
/// never changes for a given version word.
std::string encodeSourcePosition(std::string_view version, int split, int numSplits, std::span<const int64_t> values);

/// Parses `text` (written by encodeSourcePosition with `version` and values.size() values) into `values` for
/// the reader of split `split` of `numSplits` of source `sourceId`. Corruption "source '<id>': unreadable
/// saved position '<text>'" when the text is not of this version and shape; InvalidArgument naming both
/// splits when it was taken for another split. Words after the last value are ignored. The caller checks
/// the values' ranges. `values` is unspecified after an error.
Status decodeSourcePosition(std::string_view version, const std::string& text, const std::string& sourceId, int split,
                            int numSplits, std::span<int64_t> values);

}  // namespace sluice
