#include "tests/testing/jsonl_compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

std::string compareJsonValues(const nlohmann::json& expected, const nlohmann::json& actual, const std::string& where) {
  if (expected.is_object()) {
    if (!actual.is_object() || actual.size() != expected.size()) {
      return where + ": different keys, expected " + expected.dump() + ", got " + actual.dump();
    }
    for (const auto& [key, value] : expected.items()) {
      if (!actual.contains(key)) return where + ": missing " + key;
      std::string difference = compareJsonValues(value, actual[key], where + "." + key);
      if (!difference.empty()) return difference;
    }
    return "";
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return where + ": different lengths";
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string difference = compareJsonValues(expected[i], actual[i], where + "[" + std::to_string(i) + "]");
      if (!difference.empty()) return difference;
    }
    return "";
  }
  if (expected.is_number_float() || actual.is_number_float()) {
    if (!actual.is_number() || std::abs(expected.get<double>() - actual.get<double>()) > 1e-6) {
      return where + ": expected " + expected.dump() + ", got " + actual.dump();
    }
    return "";
  }
  return expected == actual ? "" : where + ": expected " + expected.dump() + ", got " + actual.dump();
}

nlohmann::json readJsonFile(const std::string& path) {
  std::ifstream file(path);
  if (!file.good()) {
    ADD_FAILURE() << "cannot read " << path;
    return nullptr;
  }
  nlohmann::json document = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    ADD_FAILURE() << path << " is not JSON";
    return nullptr;
  }
  return document;
}

std::vector<nlohmann::json> sortedJsonRows(const std::vector<std::string>& lines,
                                           const std::vector<std::string>& keys) {
  std::vector<nlohmann::json> rows;
  rows.reserve(lines.size());
  for (const std::string& line : lines) rows.push_back(nlohmann::json::parse(line));
  const nlohmann::json missing;  // null: sorts before every number
  auto field = [&missing](const nlohmann::json& row, const std::string& key) -> const nlohmann::json& {
    auto found = row.find(key);
    return found == row.end() ? missing : *found;
  };
  std::sort(rows.begin(), rows.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    for (const std::string& key : keys) {
      const nlohmann::json& left = field(a, key);
      const nlohmann::json& right = field(b, key);
      if (left < right) return true;
      if (right < left) return false;
    }
    return false;
  });
  return rows;
}

}  // namespace sluice::testing
