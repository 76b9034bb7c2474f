#include "tests/testing/jsonl_compare.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

namespace sluice::testing {

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> readCommittedLines(const std::string& directory) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) == 0) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> lines;
  for (const auto& file : files) {
    auto more = readLines(file);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  return lines;
}

namespace {

/// A canonical text for a row: keys sorted (nlohmann's object is a std::map)
/// and every number printed as a double, so 3 and 3.0 compare equal.
std::string canonical(const std::string& line) {
  auto parsed = nlohmann::json::parse(line, nullptr, false);
  if (parsed.is_discarded()) return "<invalid JSON> " + line;
  std::function<void(nlohmann::json&)> normalise = [&](nlohmann::json& value) {
    if (value.is_number()) {
      value = value.get<double>();
    } else if (value.is_object() || value.is_array()) {
      for (auto& child : value) normalise(child);
    }
  };
  normalise(parsed);
  return parsed.dump();
}

}  // namespace

std::string compareJsonRows(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
  std::map<std::string, int> counts;
  for (const auto& line : expected) ++counts[canonical(line)];
  for (const auto& line : actual) --counts[canonical(line)];
  std::string report;
  int shown = 0;
  int missing = 0;
  int extra = 0;
  for (const auto& [row, count] : counts) {
    if (count > 0) missing += count;
    if (count < 0) extra -= count;
    if (count != 0 && shown < 5) {
      report += (count > 0 ? "\n  missing x" : "\n  unexpected x") + std::to_string(std::abs(count)) + ": " + row;
      ++shown;
    }
  }
  if (missing == 0 && extra == 0) return "";
  return "expected " + std::to_string(expected.size()) + " rows, got " + std::to_string(actual.size()) + "; " +
         std::to_string(missing) + " missing, " + std::to_string(extra) + " unexpected" + report;
}

}  // namespace sluice::testing
