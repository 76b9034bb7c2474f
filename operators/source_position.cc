// Split-source position text: written with iostreams (decimal, one space apart) and read back the same way.
#include "operators/source_position.h"

#include <sstream>

namespace sluice {
namespace {

std::string messagePrefix(const std::string& sourceId) { return "source '" + sourceId + "': "; }

}  // namespace

Status checkSplitInRange(const std::string& sourceId, int split, int numSplits) {
  if (numSplits < 1 || split < 0 || split >= numSplits) {
    return Status::invalidArgument(messagePrefix(sourceId) + "split out of range");
  }
  return Status::OK();
}

std::string encodeSourcePosition(std::string_view version, int split, int numSplits, std::span<const int64_t> values) {
  std::ostringstream out;
  out << version << ' ' << split << ' ' << numSplits;
  for (const int64_t value : values) out << ' ' << value;
  return out.str();
}

Status decodeSourcePosition(std::string_view version, const std::string& text, const std::string& sourceId, int split,
                            int numSplits, std::span<int64_t> values) {
  std::istringstream in(text);
  std::string savedVersion;
  int savedSplit = -1;
  int savedNumSplits = -1;
  in >> savedVersion >> savedSplit >> savedNumSplits;
  for (int64_t& value : values) in >> value;
  if (in.fail() || savedVersion != version) {
    return Status::corruption(messagePrefix(sourceId) + "unreadable saved position '" + text + "'");
  }
  if (savedSplit != split || savedNumSplits != numSplits) {
    return Status::invalidArgument(messagePrefix(sourceId) + "saved position is for split " +
                                   std::to_string(savedSplit) + " of " + std::to_string(savedNumSplits) +
                                   ", this reader reads split " + std::to_string(split) + " of " +
                                   std::to_string(numSplits));
  }
  return Status::OK();
}

}  // namespace sluice
