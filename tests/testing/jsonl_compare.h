// Compares JSON-lines results as multisets of rows (key order and row order do not matter).
#pragma once

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

}  // namespace sluice::testing
