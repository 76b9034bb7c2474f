// FileFormat: the text formats file sources read and file sinks write.
#pragma once

#include <optional>
#include <string_view>

namespace sluice {

enum class FileFormat {
  kJsonLines,  // "jsonl": one JSON object per line
  kCsv,        // "csv": comma-separated columns, no header
};

/// "jsonl" or "csv"; nullopt for anything else.
inline std::optional<FileFormat> parseFileFormat(std::string_view name) {
  if (name == "jsonl") return FileFormat::kJsonLines;
  if (name == "csv") return FileFormat::kCsv;
  return std::nullopt;
}

/// The extension committed files of this format carry ("jsonl", "csv").
inline std::string_view fileFormatExtension(FileFormat format) { return format == FileFormat::kCsv ? "csv" : "jsonl"; }

}  // namespace sluice
