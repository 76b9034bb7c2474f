// Compares JSON-lines results as multisets of rows (key order and row order do not matter), and JSON
// values with a float tolerance; reads expected-result files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sluice::testing {

/// Every line of every committed `part-*` file in `directory`, in name order.
std::vector<std::string> readCommittedLines(const std::string& directory);
/// Lines of one file.
std::vector<std::string> readLines(const std::string& path);

/// Compares two multisets of JSON rows: keys are unordered and numbers compare
/// by value (so 0.908 * 17619528 matches however it is printed). Returns an
/// empty string when equal, else a short description of the first differences.
std::string compareJsonRows(const std::vector<std::string>& expected, const std::vector<std::string>& actual);

/// Compares two JSON values: objects need the same keys, arrays the same length, integers, strings and
/// booleans compare exactly and a float on either side within 1e-6. Returns an empty string when equal,
/// else the first difference as "<where>.key[i]: ...".
std::string compareJsonValues(const nlohmann::json& expected, const nlohmann::json& actual, const std::string& where);

/// The JSON document in file `path` (an expected-results file). A missing or malformed file fails the
/// current test, naming the file, and reads as null.
nlohmann::json readJsonFile(const std::string& path);

/// Each line parsed as a JSON object (parse errors throw), sorted by the values of `keys` in turn (numbers by
/// value; a missing key sorts first).
std::vector<nlohmann::json> sortedJsonRows(const std::vector<std::string>& lines, const std::vector<std::string>& keys);

}  // namespace sluice::testing
